#include "actors/sources/partition_source.h"

#include <set>

#include "actors/messages.h"
#include "actors/sinks/dead_letter_queue.h"
#include "common/kafka_client.h"
#include "common/log.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/record.h"
#include "protocol/stream_load/row_encoder.h"
#include "protocol/transforms/transform.h"

namespace starpipe::sources {

struct partition_source_state {
  partition_source_settings settings;
  caf::actor supervisor;
  std::unique_ptr<connect::record_converter> converter;
  std::unique_ptr<stream_load::row_encoder> encoder;
  std::shared_ptr<const transforms::chain> chain; // when the connector has transforms
  std::map<std::string, caf::actor> writers; // table -> writer
  uint64_t next_seq = 0;
  bool failed = false;
  std::set<std::string> fed_tables; // tables given rows since the last caught-up signal
  topic_partition tp;
  static inline const char* name = "partition_source";
};

namespace {

using self_ptr = caf::stateful_actor<partition_source_state>*;

struct table_rows {
  std::string data;
  size_t rows = 0;
  std::vector<offset_run> offsets; // each row's record
};

// What one batch became: rows per table, the last offset fully handled, and the record
// that stopped the task (errors.tolerance=none).
struct batch_output {
  std::map<std::string, table_rows> by_table;
  int64_t last_done = -1;
  std::optional<std::pair<int64_t, std::string>> bad;
  std::vector<sinks::dead_letter> dead; // skipped records for the dead-letter topic
};

std::string where(const topic_partition& tp, int64_t offset) {
  return "topic " + tp.topic + ", partition " + std::to_string(tp.partition) + ", offset " + std::to_string(offset);
}

const rd_kafka_message_t* find_message(const record_batch& batch, int64_t offset) {
  for (auto* m : batch.records->items)
    if (m->offset == offset) return m;
  return nullptr;
}

// A record that cannot become a row: stop (none) or skip and say so (all), keeping it for
// the dead-letter topic when there is one. Returns true when processing goes on.
bool record_error(self_ptr self, const topic_partition& tp, const rd_kafka_message_t* m, int64_t offset,
                  const std::string& reason, const std::string& stage, const std::string& class_name,
                  batch_output& out) {
  const auto& c = *self->state.settings.connector;
  if (!c.errors_tolerate_all) {
    out.bad = std::make_pair(offset, reason);
    return false;
  }
  if (self->state.settings.dead_letters && m) {
    out.dead.push_back({tp.topic, tp.partition, offset, bytes_of(m->key, m->key_len), bytes_of(m->payload, m->len),
                        headers_of(m), stage, class_name, reason});
  }
  if (c.errors_log) {
    std::string text = "skipped record at " + where(tp, offset) + ": " + reason + " (errors.tolerance=all)";
    if (c.errors_log_messages && m && m->payload)
      text += "; value: " + std::string(static_cast<const char*>(m->payload), std::min<size_t>(m->len, 2000));
    LOG_WARN("source", text);
  }
  out.last_done = offset;
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
        self->send(self->state.supervisor, failed_atom::value, batch.tp, batch.records->items.front()->offset,
                   "dead-letter queue failed for records of " + batch.tp.to_string() + ": " + error +
                       " (nothing of this batch is committed)");
      });
}

void emit_loaded(self_ptr self, const record_batch& batch, batch_output& out) {
  auto& st = self->state;
  uint64_t seq = st.next_seq++;
  int parts = 0;
  for (auto& [table, rows] : out.by_table)
    if (rows.rows > 0) ++parts;
  if (out.last_done >= 0)
    self->send(st.supervisor, register_atom::value, batch.tp, seq, out.last_done, parts, batch.bytes,
               st.settings.owner);
  st.tp = batch.tp;
  for (auto& [table, rows] : out.by_table) {
    if (rows.rows == 0) continue;
    st.fed_tables.insert(table);
    row_fragment frag{batch.tp, seq, table, std::move(rows.data), rows.rows, std::move(rows.offsets)};
    auto it = st.writers.find(table);
    if (it != st.writers.end()) {
      self->send(it->second, batch_atom::value, std::move(frag));
      continue;
    }
    // The writer is looked up once per table; await keeps the partition's order.
    self->request(st.supervisor, caf::infinite, writer_atom::value, table, st.settings.owner)
        .await([self, frag](const caf::actor& w) mutable {
          self->state.writers[frag.table] = w;
          self->send(w, batch_atom::value, std::move(frag));
        });
  }
  if (out.bad) {
    st.failed = true;
    std::string text = "cannot convert record at " + where(batch.tp, out.bad->first) + ": " + out.bad->second +
                       " (errors.tolerance=none: the task stops and the offset is not committed past this record)";
    self->send(st.supervisor, failed_atom::value, batch.tp, out.bad->first, text);
  }
}

// No transforms: each value is converted straight into its table's fragment.
void convert_batch(self_ptr self, const record_batch& batch) {
  auto& st = self->state;
  batch_output out;
  // A batch holds one partition's records, so one topic and one target table.
  auto& rows = out.by_table[st.settings.connector->table_for(batch.tp.topic)];
  rows.data.reserve(static_cast<size_t>(batch.bytes));
  std::string error;
  for (auto* m : batch.records->items) {
    size_t mark = st.encoder->begin_row(rows.data);
    auto status = st.converter->convert(static_cast<const char*>(m->payload), m->len, rows.data, error);
    if (status == connect::convert_status::row) {
      st.encoder->end_row(rows.data);
      ++rows.rows;
      add_row_offset(rows.offsets, m->offset);
    } else {
      stream_load::row_encoder::rollback_row(rows.data, mark);
      if (status == connect::convert_status::error &&
          !record_error(self, batch.tp, m, m->offset, error, "VALUE_CONVERTER", st.settings.connector->value_converter.class_name, out))
        break;
    }
    out.last_done = m->offset;
  }
  emit(self, batch, out);
}

// With transforms: decode key and value to Connect records, apply the chain, then render the
// surviving records as rows of the table their topic maps to.
void transform_batch(self_ptr self, const record_batch& batch) {
  auto& st = self->state;
  const auto& c = *st.settings.connector;
  batch_output out;
  std::vector<connect::connect_record> records;
  records.reserve(batch.records->items.size());
  for (auto* m : batch.records->items) {
    connect::connect_record r;
    r.topic = batch.tp.topic;
    r.partition = batch.tp.partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t tstype;
    r.timestamp = rd_kafka_message_timestamp(m, &tstype);
    std::string error;
    if (!connect::decode(c.key_converter, static_cast<const char*>(m->key), m->key_len, r.key, error)) {
      if (!record_error(self, batch.tp, m, m->offset, "key: " + error, "KEY_CONVERTER", c.key_converter.class_name, out))
        break;
      continue;
    }
    if (!connect::decode(c.value_converter, static_cast<const char*>(m->payload), m->len, r.value, error)) {
      if (!record_error(self, batch.tp, m, m->offset, error, "VALUE_CONVERTER", c.value_converter.class_name, out))
        break;
      continue;
    }
    records.push_back(std::move(r));
  }
  if (out.bad && records.empty()) return emit(self, batch, out);
  int64_t stop_at = out.bad ? out.bad->first : INT64_MAX;
  connect::render_options opts{c.zone.get()};
  for (auto& res : transforms::apply_to_batch(*st.chain, std::move(records))) {
    if (res.offset > stop_at) break;
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
        !record_error(self, batch.tp, find_message(batch, res.offset), res.offset, error, stage,
                      stage == std::string("TASK_PUT") ? "com.starrocks.connector.kafka.StarRocksSinkTask" : "transforms",
                      out))
      break;
    if (res.offset < stop_at) out.last_done = std::max(out.last_done, res.offset);
  }
  emit(self, batch, out);
}

} // namespace

caf::behavior partition_source(caf::stateful_actor<partition_source_state>* self, partition_source_settings settings,
                               caf::actor supervisor) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  st.converter = std::make_unique<connect::record_converter>(
      st.settings.connector->value_converter, st.settings.connector->format, st.settings.connector->zone.get());
  st.encoder = std::make_unique<stream_load::row_encoder>(st.settings.connector->format,
                                                          st.settings.connector->row_delimiter);
  if (!st.settings.connector->transforms.empty()) st.chain = transforms::build_chain(st.settings.connector->transforms);
  return {
      [self](batch_atom, const record_batch& batch) {
        auto& st = self->state;
        if (st.failed || batch.records->items.empty()) return;
        if (st.chain) transform_batch(self, batch);
        else convert_batch(self, batch);
      },
      [self](caught_up_atom) {
        auto& st = self->state;
        for (const auto& table : st.fed_tables) {
          auto it = st.writers.find(table);
          if (it != st.writers.end()) self->send(it->second, caught_up_atom::value, st.tp);
        }
        st.fed_tables.clear();
      },
      [](barrier_atom) { return true; },
  };
}

caf::actor spawn_partition_source(caf::actor_system& sys, partition_source_settings settings, caf::actor supervisor) {
  return sys.spawn(partition_source, std::move(settings), std::move(supervisor));
}

} // namespace starpipe::sources
