#include "actors/sinks/load_executor.h"

#include "actors/messages.h"

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
      // One attempt of one transaction operation; the writer decides what comes next.
      [=](load_atom, stream_load::txn_op op, const stream_load::load_request& req) -> stream_load::attempt_outcome {
        return client->call(op, req);
      },
  };
}

} // namespace starpipe::sinks
