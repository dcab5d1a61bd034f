#include "actors/pipeline/record_stage.h"

#include <deque>
#include <set>

#include "actors/messages.h"
#include "actors/pipeline/schema_fetcher.h"
#include "actors/sinks/dead_letter_queue.h"
#include "common/kafka_client.h" // bytes_of
#include "common/log.h"
#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/record.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/stream_load/row_encoder.h"
#include "protocol/transforms/transform.h"

namespace starpipe::pipeline {

struct record_stage_state {
  record_stage_settings settings;
  caf::actor supervisor;
  std::unique_ptr<connect::record_converter> converter;  // no transforms: value bytes straight to rows
  std::unique_ptr<connect::converter> key_converter;     // with transforms: bytes to Connect records
  std::unique_ptr<connect::converter> value_converter;
  std::unique_ptr<stream_load::row_encoder> encoder;
  std::shared_ptr<const transforms::chain> chain; // when the connector has transforms
  // The plans of the schemas transforms give the rows (as many as the value converter keeps).
  std::unique_ptr<connect::schema_cache> row_plans;
  std::map<std::string, caf::actor> writers; // table -> writer
  bool failed = false;
  std::set<std::string> fed_tables; // tables given rows since the last caught-up signal
  stream_id stream;
  // Records go through Connect data (key and value converters, then the chain): with
  // transforms, and for converters whose schemas are fetched.
  bool through_connect_data = false;
  caf::actor schema_fetcher; // set when a converter fetches schemas
  bool own_fetcher = false;
  // What waits, in arrival order, while a batch's schemas are fetched.
  struct waiting {
    enum kind_t { batch, caught_up, barrier } kind = batch;
    record_batch records;
    caf::response_promise answer; // a barrier's
  };
  std::deque<waiting> queue;
  int fetch_attempt = 0;
  static inline const char* name = "record_stage";
};

namespace {

using self_ptr = caf::stateful_actor<record_stage_state>*;

struct table_rows {
  std::string data;
  size_t rows = 0;
  std::vector<offset_run> offsets; // each row's record
};

// What one batch became: rows per table, the last record fully handled (its index in the
// batch), and the record that stopped the task (errors.tolerance=none): its offset and why.
struct batch_output {
  std::map<std::string, table_rows> by_table;
  std::optional<size_t> last_done;
  std::optional<std::pair<int64_t, std::string>> bad;
  std::vector<sinks::dead_letter> dead; // skipped records for the dead-letter topic
};

std::string where(const record_view& r) {
  return "topic " + std::string(r.topic) + ", partition " + std::to_string(r.partition) + ", offset " +
         std::to_string(r.offset);
}

// The index of the record at `offset` (transforms answer by offset; a batch's offsets are
// distinct and in order).
std::optional<size_t> index_of(const record_set& records, int64_t offset) {
  size_t lo = 0, hi = records.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (records.at(mid).offset < offset) lo = mid + 1;
    else hi = mid;
  }
  if (lo < records.size() && records.at(lo).offset == offset) return lo;
  return std::nullopt;
}

// A record that cannot become a row: stop (none) or skip and say so (all), keeping it for
// the dead-letter topic when there is one. Returns true when processing goes on.
bool record_error(self_ptr self, const record_batch& batch, size_t index, const std::string& reason,
                  const std::string& stage, const std::string& class_name, batch_output& out) {
  const auto& c = *self->state.settings.connector;
  auto r = batch.records->at(index);
  if (!c.errors_tolerate_all) {
    out.bad = std::make_pair(r.offset, reason);
    return false;
  }
  if (self->state.settings.dead_letters) {
    out.dead.push_back({std::string(r.topic), r.partition, r.offset, bytes_of(r.key, r.key_len),
                        bytes_of(r.value, r.value_len), batch.records->headers(index), stage, class_name, reason});
  }
  if (c.errors_log) {
    std::string text = "skipped record at " + where(r) + ": " + reason + " (errors.tolerance=all)";
    if (c.errors_log_messages && r.value) text += "; value: " + std::string(r.value, std::min<size_t>(r.value_len, 2000));
    LOG_WARN("source", text);
  }
  out.last_done = index;
  return true;
}

void emit_loaded(self_ptr self, const record_batch& batch, batch_output& out);

// Registers the batch with the supervisor, hands each table's rows to its writer, and
// reports a record that stopped the task. Skipped records go to the dead-letter topic
// first: until Kafka has them, nothing of the batch counts as done.
void emit(self_ptr self, const record_batch& batch, batch_output& out) {
  auto& st = self->state;
  if (out.dead.empty() || !st.settings.dead_letters) return emit_loaded(self, batch, out);
  auto held = std::make_shared<batch_output>(std::move(out));
  auto letters = std::move(held->dead);
  self->request(st.settings.dead_letters, caf::infinite, dlq_atom::value, std::move(letters))
      .await([self, batch, held](const std::string& error) {
        if (error.empty()) return emit_loaded(self, batch, *held);
        self->state.failed = true;
        self->send(self->state.supervisor, failed_atom::value, batch.stream, batch.records->at(0).offset,
                   "dead-letter queue failed for records of " + batch.stream.to_string() + ": " + error +
                       " (nothing of this batch is committed)");
      });
}

void emit_loaded(self_ptr self, const record_batch& batch, batch_output& out) {
  auto& st = self->state;
  int parts = 0;
  for (auto& [table, rows] : out.by_table)
    if (rows.rows > 0) ++parts;
  if (out.last_done) {
    // The whole batch done: the source's own last position; cut short: the last record's.
    auto last = *out.last_done + 1 == batch.records->size() ? batch.last_position
                                                             : batch.records->at(*out.last_done).position;
    self->send(st.supervisor, register_atom::value, batch.stream, batch.seq, last, parts, batch.bytes,
               st.settings.owner);
  }
  st.stream = batch.stream;
  for (auto& [table, rows] : out.by_table) {
    if (rows.rows == 0) continue;
    st.fed_tables.insert(table);
    row_fragment frag{batch.stream, batch.seq, table, std::move(rows.data), rows.rows, std::move(rows.offsets)};
    auto it = st.writers.find(table);
    if (it != st.writers.end()) {
      self->send(it->second, batch_atom::value, std::move(frag));
      continue;
    }
    // The writer is looked up once per table; await keeps the stream's order and holds a
    // barrier until these rows are handed on.
    self->request(st.supervisor, caf::infinite, writer_atom::value, table, st.settings.owner)
        .await([self, frag](const caf::actor& w) mutable {
          self->state.writers[frag.table] = w;
          self->send(w, batch_atom::value, std::move(frag));
        });
  }
  if (out.bad) {
    st.failed = true;
    std::string text = "cannot convert record at topic " + std::string(batch.records->at(0).topic) + ", partition " +
                       std::to_string(batch.records->at(0).partition) + ", offset " + std::to_string(out.bad->first) +
                       ": " + out.bad->second +
                       " (errors.tolerance=none: the task stops and the offset is not committed past this record)";
    self->send(st.supervisor, failed_atom::value, batch.stream, out.bad->first, text);
  }
}

// No transforms: each value is converted straight into its table's fragment.
void convert_batch(self_ptr self, const record_batch& batch) {
  auto& st = self->state;
  const record_set& records = *batch.records;
  batch_output out;
  // The records of one stream's batch share a topic, so one target table.
  auto& rows = out.by_table[st.settings.connector->table_for(std::string(records.at(0).topic))];
  rows.data.reserve(static_cast<size_t>(batch.bytes));
  std::string error;
  for (size_t i = 0, n = records.size(); i < n; ++i) {
    auto r = records.at(i);
    size_t mark = st.encoder->begin_row(rows.data);
    auto status = st.converter->convert(r.value, r.value_len, rows.data, error);
    if (status == connect::convert_status::row) {
      st.encoder->end_row(rows.data);
      ++rows.rows;
      add_row_offset(rows.offsets, r.offset);
    } else {
      stream_load::row_encoder::rollback_row(rows.data, mark);
      if (status == connect::convert_status::error &&
          !record_error(self, batch, i, error, "VALUE_CONVERTER", st.settings.connector->value_converter.class_name, out))
        break;
    }
    out.last_done = i;
  }
  emit(self, batch, out);
}

// Through Connect data (transforms, or schemas fetched): decode key and value to Connect
// records, apply the chain (an empty one passes every record), then render the surviving
// records as rows of the table their topic maps to.
void transform_batch(self_ptr self, const record_batch& batch) {
  auto& st = self->state;
  const auto& c = *st.settings.connector;
  const record_set& in = *batch.records;
  batch_output out;
  std::vector<connect::connect_record> records;
  records.reserve(in.size());
  for (size_t i = 0, n = in.size(); i < n; ++i) {
    auto v = in.at(i);
    connect::connect_record r;
    r.topic = std::string(v.topic);
    r.partition = v.partition;
    r.offset = v.offset;
    r.timestamp = in.timestamp(i);
    std::string error;
    if (!st.key_converter->to_connect(v.key, v.key_len, r.key, error)) {
      if (!record_error(self, batch, i, "key: " + error, "KEY_CONVERTER", c.key_converter.class_name, out)) break;
      continue;
    }
    if (!st.value_converter->to_connect(v.value, v.value_len, r.value, error)) {
      if (!record_error(self, batch, i, error, "VALUE_CONVERTER", c.value_converter.class_name, out)) break;
      continue;
    }
    records.push_back(std::move(r));
  }
  if (out.bad && records.empty()) return emit(self, batch, out);
  int64_t stop_at = out.bad ? out.bad->first : INT64_MAX;
  connect::render_options opts{c.zone.get(), st.row_plans.get()};
  for (auto& res : transforms::apply_to_batch(*st.chain, std::move(records))) {
    if (res.offset > stop_at) break;
    auto index = index_of(in, res.offset);
    if (!index) continue; // cannot happen: every result comes from a record of the batch
    std::string error = res.error;
    const char* stage = error.empty() ? "TASK_PUT" : "TRANSFORMATION";
    if (error.empty() && res.record) {
      auto& r = *res.record;
      bool deleted = r.value && r.value->value.is_object() && r.value->value.contains("__op") &&
                     r.value->value["__op"] == 1;
      if (!(deleted && c.ignore_deletes)) {
        auto row = connect::render_row(r, opts, error);
        if (row) {
          auto& rows = out.by_table[c.table_for(r.topic)];
          st.encoder->begin_row(rows.data);
          rows.data += *row;
          st.encoder->end_row(rows.data);
          ++rows.rows;
          add_row_offset(rows.offsets, res.offset);
        }
      }
    }
    if (!error.empty() &&
        !record_error(self, batch, *index, error, stage,
                      stage == std::string("TASK_PUT") ? "com.starrocks.connector.kafka.StarRocksSinkTask" : "transforms",
                      out))
      break;
    if (res.offset < stop_at) out.last_done = std::max(out.last_done.value_or(0), *index);
  }
  emit(self, batch, out);
}

void forward_caught_up(self_ptr self) {
  auto& st = self->state;
  for (const auto& table : st.fed_tables) {
    auto it = st.writers.find(table);
    if (it != st.writers.end()) self->send(it->second, caught_up_atom::value, st.stream);
  }
  st.fed_tables.clear();
}

void convert(self_ptr self, const record_batch& batch) {
  auto& st = self->state;
  if (st.failed || !batch.records || batch.records->size() == 0) return;
  if (st.through_connect_data) transform_batch(self, batch);
  else convert_batch(self, batch);
}

// The schemas a batch's records name that their converters have not been given yet.
std::vector<std::string> schemas_missing(self_ptr self, const record_batch& batch) {
  auto& st = self->state;
  std::vector<std::string> ids;
  if (!st.schema_fetcher || st.failed || !batch.records) return ids;
  for (size_t i = 0, n = batch.records->size(); i < n; ++i) {
    auto r = batch.records->at(i);
    if (r.key) st.key_converter->schemas_needed(r.key, r.key_len, ids);
    if (r.value) st.value_converter->schemas_needed(r.value, r.value_len, ids);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

caf::behavior converting(self_ptr self);
caf::behavior fetching_schemas(self_ptr self);
void on_schemas(self_ptr self, const std::vector<connect::fetched_schema>& answers);

// A schema source keeps its own deadline per request (past it, the schema is `unavailable`);
// this one only bounds a fetcher that does not answer at all.
constexpr auto fetch_deadline = std::chrono::minutes(2);

void ask_for_schemas(self_ptr self, std::vector<std::string> ids) {
  self->request(self->state.schema_fetcher, fetch_deadline, schemas_atom::value, ids)
      .then([self](const std::vector<connect::fetched_schema>& answers) { on_schemas(self, answers); },
            [self, ids](const caf::error& e) {
              std::vector<connect::fetched_schema> answers;
              for (const auto& id : ids)
                answers.push_back({id, connect::fetched_schema::outcome::unavailable, "",
                                   "the schema fetcher did not answer: " + self->system().render(e)});
              on_schemas(self, answers);
            });
}

// Goes on with what waits, one item per message: a batch's rows may wait for a writer lookup
// or the dead-letter topic (awaited), and the next batch must not overtake them.
void next_waiting(self_ptr self) {
  auto& st = self->state;
  if (st.queue.empty()) {
    self->become(converting(self));
    return;
  }
  auto& item = st.queue.front();
  switch (item.kind) {
  case record_stage_state::waiting::batch: {
    auto ids = schemas_missing(self, item.records);
    if (!ids.empty()) return ask_for_schemas(self, std::move(ids));
    auto batch = std::move(item.records);
    st.queue.pop_front();
    convert(self, batch);
    break;
  }
  case record_stage_state::waiting::caught_up:
    st.queue.pop_front();
    forward_caught_up(self);
    break;
  case record_stage_state::waiting::barrier: {
    auto answer = std::move(item.answer);
    st.queue.pop_front();
    answer.deliver(true);
    break;
  }
  }
  self->send(self, queued_atom::value);
}

void on_schemas(self_ptr self, const std::vector<connect::fetched_schema>& answers) {
  auto& st = self->state;
  for (const auto& a : answers) {
    if (a.result == connect::fetched_schema::outcome::unavailable) continue;
    st.key_converter->add_schema(a);
    st.value_converter->add_schema(a);
  }
  auto decision = connect::after_fetch(answers, st.fetch_attempt);
  if (decision.retry) {
    ++st.fetch_attempt;
    std::string why;
    for (const auto& a : answers)
      if (a.result == connect::fetched_schema::outcome::unavailable) {
        why = "schema " + a.id + ": " + a.error;
        break;
      }
    LOG_WARN("source", "records of " + st.stream.to_string() + " wait for their schemas (" + why + "); asking again in " +
                           std::to_string(decision.after.count()) + " ms");
    self->delayed_send(self, decision.after, retry_atom::value);
    return;
  }
  st.fetch_attempt = 0;
  next_waiting(self);
}

caf::behavior converting(self_ptr self) {
  return {
      [self](batch_atom, record_batch& batch) {
        auto& st = self->state;
        auto ids = schemas_missing(self, batch);
        if (ids.empty()) return convert(self, batch);
        st.stream = batch.stream; // named in the warnings while it waits
        st.queue.push_back({record_stage_state::waiting::batch, std::move(batch), {}});
        ask_for_schemas(self, std::move(ids));
        self->become(fetching_schemas(self));
      },
      [self](caught_up_atom) { forward_caught_up(self); },
      [](barrier_atom) { return true; },
  };
}

caf::behavior fetching_schemas(self_ptr self) {
  return {
      [self](batch_atom, record_batch& batch) {
        self->state.queue.push_back({record_stage_state::waiting::batch, std::move(batch), {}});
      },
      [self](caught_up_atom) { self->state.queue.push_back({record_stage_state::waiting::caught_up, {}, {}}); },
      [self](barrier_atom) -> caf::result<bool> {
        auto answer = self->make_response_promise();
        self->state.queue.push_back({record_stage_state::waiting::barrier, {}, answer});
        return caf::delegated<bool>{};
      },
      // The backoff after an unavailable registry is over.
      [self](retry_atom) {
        auto& st = self->state;
        if (st.queue.empty()) return self->become(converting(self));
        auto ids = schemas_missing(self, st.queue.front().records);
        if (ids.empty()) return next_waiting(self);
        ask_for_schemas(self, std::move(ids));
      },
      [self](queued_atom) { next_waiting(self); },
  };
}

} // namespace

caf::behavior record_stage(caf::stateful_actor<record_stage_state>* self, record_stage_settings settings,
                           caf::actor supervisor) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  const auto& c = *st.settings.connector;
  st.converter = std::make_unique<connect::record_converter>(c.value_converter, c.format, c.zone.get());
  st.encoder = std::make_unique<stream_load::row_encoder>(c.format, c.row_delimiter);
  auto make = st.settings.make_converter ? st.settings.make_converter : connect::make_converter;
  st.schema_fetcher = st.settings.schema_fetcher;
  if (!st.schema_fetcher) {
    // Key and value converters of a registry name schemas of the same registry: one fetcher
    // answers both (the value converter's source, else the key converter's).
    for (const auto* spec : {&c.value_converter, &c.key_converter}) {
      const auto* plugin = connect::find_converter(spec->class_name);
      if (plugin && plugin->make_schema_source) {
        st.schema_fetcher = spawn_schema_fetcher(self->system(), plugin->make_schema_source(*spec));
        st.own_fetcher = true;
        break;
      }
    }
  }
  if (st.own_fetcher)
    self->attach_functor([fetcher = st.schema_fetcher](const caf::error&) {
      caf::anon_send_exit(fetcher, caf::exit_reason::user_shutdown);
    });
  st.through_connect_data = !c.transforms.empty() || static_cast<bool>(st.schema_fetcher) ||
                            static_cast<bool>(st.settings.make_converter);
  if (st.through_connect_data) {
    st.chain = transforms::build_chain(c.transforms);
    st.key_converter = make(c.key_converter);
    st.value_converter = make(c.value_converter);
    st.row_plans = std::make_unique<connect::schema_cache>(static_cast<size_t>(c.value_converter.schemas_cache_size));
  }
  return converting(self);
}

caf::actor spawn_record_stage(caf::actor_system& sys, record_stage_settings settings, caf::actor supervisor) {
  return sys.spawn(record_stage, std::move(settings), std::move(supervisor));
}

} // namespace starpipe::pipeline
