#include "actors/sinks/load_executor.h"

#include "actors/messages.h"
#include "common/log.h"
#include "protocol/stream_load/label.h"

#include <thread>

namespace starpipe::sinks {

caf::behavior load_executor(caf::event_based_actor* self, stream_load::client_settings settings) {
  auto client = std::make_shared<stream_load::stream_load_client>(std::move(settings));
  return {
      [=](load_atom, const stream_load::load_request& req) -> stream_load::attempt_outcome {
        return client->attempt(req);
      },
      [=](state_atom, const std::string& database, const std::string& label) -> std::string {
        std::string error;
        auto st = client->load_state(database, label, error);
        return st.state.empty() ? "ERROR: " + error : st.state;
      },
      [=](errlog_atom, const std::string& url) -> std::string { return client->fetch_error_log(url); },
      [=](errlog_atom, const std::string& url, uint64_t limit) -> std::string {
        return client->fetch_error_log(url, static_cast<size_t>(limit));
      },
      [=](probe_atom, const std::string& database) -> stream_load::interface_probe {
        return client->probe_transaction_interface(database);
      },
      // Backoff sleeps happen here, on this writer's own thread, never on a scheduler thread.
      [=](load_atom, const transaction_job& job) -> stream_load::txn_result {
        auto labels = [&job](uint64_t n) { return stream_load::make_label(job.prefix, job.batch.table, job.slot, n); };
        std::string where = "table " + job.batch.database + "." + job.batch.table + ": ";
        return stream_load::run_transaction(
            *client, job.batch, labels, job.first_sequence, job.commit_at_end, job.retry,
            [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
            [&where](const std::string& what) { LOG_WARN("writer", where << what); });
      },
  };
}

} // namespace starpipe::sinks
