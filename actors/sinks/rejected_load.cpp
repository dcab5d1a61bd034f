// A load StarRocks refused for its rows ("too many filtered rows"): the rejected rows are told
// apart (protocol/stream_load/rejected_rows), the others are loaded again under new labels,
// and the rejected records go to the dead-letter topic or fail the task.
#include "actors/sinks/dead_letter_queue.h"
#include "actors/sinks/writer_state.h"
#include "common/log.h"
#include "protocol/stream_load/label.h"

namespace starpipe::sinks::writer_steps {

// ---- A load refused for its rows -------------------------------------------------------

void next_probe(self_ptr self);

// `reason`/`resp`: how the load in flight (the refused load, or a probe of it) was refused.
// Returns false when the refusal is not about rows, or the rows cannot be told apart (a body
// that does not split into its rows): the writer then fails as it always did.
bool on_rows_refused(self_ptr self, const std::string& reason, const std::optional<stream_load::load_response>& resp) {
  auto& st = self->state;
  if (!stream_load::refused_for_rows(reason + (resp ? " " + resp->message : ""))) return false;
  const auto& c = *st.settings.connector;
  if (!st.rejecting) {
    auto spans = stream_load::split_body(*st.request.body, c.format, c.row_delimiter);
    if (spans.size() != st.request.rows || st.request_origins.size() != st.request.rows) {
      LOG_WARN("writer", "cannot tell the rows of label " << st.request.label << " apart (" << spans.size() << " of "
                                                          << st.request.rows << " rows found in the body)");
      return false;
    }
    st.rejecting = std::make_unique<writer_state::rejection>(st.request.body, std::move(spans), !c.errors_tolerate_all,
                                                             st.request.label, st.request.rows);
    st.rejecting->first_refusal = reason;
    LOG_WARN("writer", "StarRocks refused load " << st.request.label << " of table " << c.database << "."
                                                 << st.settings.table << " (" << st.request.rows << " rows) for its rows: "
                                                 << reason
                                                 << (resp && !resp->error_url.empty() ? " (ErrorURL " + resp->error_url + ")"
                                                                                      : std::string())
                                                 << "; finding the rejected rows and loading the others");
  }
  std::optional<int64_t> filtered;
  if (resp && resp->total_rows > 0) filtered = resp->filtered_rows; // V1 answers count; V2 refusals do not
  auto go_on = [self, filtered, reason](const std::string& log) {
    auto& st = self->state;
    if (!st.rejecting) return; // the writer failed meanwhile
    auto& r = *st.rejecting;
    const auto& c = *st.settings.connector;
    auto quoted = stream_load::match_error_log(log, *r.body, r.spans, r.search.current(), c.format);
    std::string why = stream_load::first_error_line(log);
    if (why.empty()) why = reason;
    r.search.refused(quoted, filtered, why);
    next_probe(self);
  };
  if (!resp || resp->error_url.empty()) {
    go_on("");
  } else {
    self->request(st.executor, caf::infinite, errlog_atom::value, resp->error_url, uint64_t{4} << 20)
        .then([go_on](const std::string& log) { go_on(log); }, [go_on](caf::error&) { go_on(""); });
  }
  return true;
}

void probe_loaded(self_ptr self, const std::optional<stream_load::load_response>& resp) {
  auto& st = self->state;
  auto& r = *st.rejecting;
  r.bytes_loaded += static_cast<int64_t>(st.request.body->size());
  if (resp) r.filtered_within_ratio += resp->filtered_rows;
  LOG_DEBUG("writer", "probe " << st.request.label << " of refused load " << r.first_label << " loaded "
                               << st.request.rows << " rows");
  r.search.loaded();
  next_probe(self);
}

void finish_rejection(self_ptr self);

// Loads the next subset of the refused rows under a new label, over the interface of the
// refused load; retries follow the same policy as any load.
void next_probe(self_ptr self) {
  auto& st = self->state;
  auto& r = *st.rejecting;
  if (r.search.done()) return finish_rejection(self);
  if (r.search.gave_up()) {
    std::string found;
    if (!r.search.rejected().empty()) {
      auto o = st.request_origins.at(r.search.rejected().begin()->first);
      found = "; the first rejected record found is at topic " + o.stream.name + ", partition " +
              std::to_string(o.stream.part) + ", offset " + std::to_string(o.offset) + ": " +
              r.search.rejected().begin()->second;
    }
    std::string text = "StarRocks rejected too many of the " + std::to_string(r.rows) + " rows of load " +
                       r.first_label + " to tell them apart in " +
                       std::to_string(stream_load::rejection_search::max_probes) + " loads (" +
                       std::to_string(r.search.rejected().size()) + " found, " +
                       std::to_string(r.search.loaded_rows()) + " loaded)" + found +
                       ". Nothing of the batch is committed; fix the table or the records and restart";
    deliver_prepared(st, prepared_checkpoint{false, text, {}, r.prepared});
    fail_writer(self, text, std::nullopt);
    return;
  }
  const auto& c = *st.settings.connector;
  const auto& rows = r.search.current();
  auto body = std::make_shared<const std::string>(stream_load::body_of(*r.body, r.spans, rows, c.format, c.row_delimiter));
  auto label = stream_load::make_label(st.settings.label_prefix, st.settings.table,
                                       st.token + "r" + std::to_string(st.loads_started), ++r.probe_labels);
  st.request = stream_load::build_load_request(c, st.settings.table, label, body, rows.size());
  st.attempt = 1;
  st.unreachable_streak = 0;
  st.label_polls = 0;
  send_attempt(self);
}

// Every row is either loaded or known rejected. errors.tolerance=none: fail naming the first
// rejected record (an exactly-once probe prepared on the way is handed back to be rolled back).
// all: the rejected records go to the dead-letter topic first; then the load is done.
void finish_rejection(self_ptr self) {
  auto& st = self->state;
  std::shared_ptr<writer_state::rejection> r(st.rejecting.release());
  const auto& c = *st.settings.connector;
  st.request.label = r->first_label;
  st.request.rows = r->rows;
  std::vector<sinks::rejected_record> rejected;
  for (const auto& [row, reason] : r->search.rejected()) {
    auto o = st.request_origins.at(row);
    rejected.push_back({o.stream.name, o.stream.part, o.offset, "StarRocks rejected the row: " + reason});
  }
  if (rejected.empty()) { // cannot be: the load was refused. Never ack rows nobody accounted for.
    fail_writer(self, "StarRocks refused the load for its rows, but every subset of them loaded", std::nullopt);
    return;
  }
  if (!c.errors_tolerate_all) {
    const auto& first = rejected.front();
    std::string text = "StarRocks rejected the record at topic " + first.topic + ", partition " +
                       std::to_string(first.partition) + ", offset " + std::to_string(first.offset) + ": " +
                       r->search.rejected().begin()->second + " (the load answered " +
                       r->first_refusal +
                       "; errors.tolerance=none: the task stops and the offset is not committed past this record)";
    deliver_prepared(st, prepared_checkpoint{false, text, {}, r->prepared});
    fail_writer(self, text, std::nullopt);
    return;
  }
  LOG_WARN("writer", "StarRocks rejected " << rejected.size() << " of " << r->rows << " rows of load " << r->first_label
                                           << " of table " << c.database << "." << st.settings.table << " ("
                                           << r->search.probes() << " loads to tell them apart); errors.tolerance=all: "
                                           << (st.settings.dead_letters ? "their records go to the dead-letter topic"
                                                                        : "they are skipped"));
  if (c.errors_log)
    for (const auto& x : rejected)
      LOG_WARN("writer", "skipped record at topic " << x.topic << ", partition " << x.partition << ", offset " << x.offset
                                                    << ": " << x.reason << " (errors.tolerance=all)");
  auto settle = [self, r, count = static_cast<int64_t>(rejected.size())] {
    auto& st = self->state;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - st.load_started).count();
    load_stats stats{st.settings.table, static_cast<int64_t>(r->search.loaded_rows()), r->bytes_loaded,
                     count + r->filtered_within_ratio, ms};
    LOG_INFO("writer", "loaded table=" << st.settings.connector->database << "." << st.settings.table
                                       << " rows=" << stats.rows << " rejected=" << count << " ms=" << ms
                                       << " label=" << r->first_label << " (in " << r->search.probes() << " loads)");
    auto prepared = r->prepared;
    finish_load(self, stats);
    if (st.settings.exactly_once) deliver_prepared(st, prepared_checkpoint{true, "", {}, prepared});
  };
  if (!st.settings.dead_letters) return settle();
  self->request(st.settings.dead_letters, caf::infinite, rejected_atom::value, std::move(rejected))
      .then([self, settle, r](const std::string& error) {
        if (error.empty()) return settle();
        auto& st = self->state;
        deliver_prepared(st, prepared_checkpoint{false, error, {}, r->prepared});
        fail_writer(self, "dead-letter queue failed for rows StarRocks rejected: " + error, std::nullopt);
      });
}

} // namespace starpipe::sinks::writer_steps
