#include "actors/pipeline/record_stage.h"

#include <set>

#include "actors/messages.h"
#include "actors/sinks/dead_letter_queue.h"
#include "common/kafka_client.h" // bytes_of
#include "common/log.h"
#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/record.h"
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
  std::map<std::string, caf::actor> writers; // table -> writer
  bool failed = false;
  std::set<std::string> fed_tables; // tables given rows since the last caught-up signal
  stream_id stream;
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

// With transforms: decode key and value to Connect records, apply the chain, then render the
// surviving records as rows of the table their topic maps to.
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
  connect::render_options opts{c.zone.get()};
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

} // namespace

caf::behavior record_stage(caf::stateful_actor<record_stage_state>* self, record_stage_settings settings,
                           caf::actor supervisor) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  st.converter = std::make_unique<connect::record_converter>(
      st.settings.connector->value_converter, st.settings.connector->format, st.settings.connector->zone.get());
  st.encoder = std::make_unique<stream_load::row_encoder>(st.settings.connector->format,
                                                          st.settings.connector->row_delimiter);
  if (!st.settings.connector->transforms.empty()) {
    st.chain = transforms::build_chain(st.settings.connector->transforms);
    st.key_converter = connect::make_converter(st.settings.connector->key_converter);
    st.value_converter = connect::make_converter(st.settings.connector->value_converter);
  }
  return {
      [self](batch_atom, const record_batch& batch) {
        auto& st = self->state;
        if (st.failed || !batch.records || batch.records->size() == 0) return;
        if (st.chain) transform_batch(self, batch);
        else convert_batch(self, batch);
      },
      [self](caught_up_atom) {
        auto& st = self->state;
        for (const auto& table : st.fed_tables) {
          auto it = st.writers.find(table);
          if (it != st.writers.end()) self->send(it->second, caught_up_atom::value, st.stream);
        }
        st.fed_tables.clear();
      },
      [](barrier_atom) { return true; },
  };
}

caf::actor spawn_record_stage(caf::actor_system& sys, record_stage_settings settings, caf::actor supervisor) {
  return sys.spawn(record_stage, std::move(settings), std::move(supervisor));
}

} // namespace starpipe::pipeline
