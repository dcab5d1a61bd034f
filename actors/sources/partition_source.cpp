#include "actors/sources/partition_source.h"

#include <set>

#include "actors/messages.h"
#include "common/log.h"
#include "protocol/connect/json_converter.h"
#include "protocol/stream_load/row_encoder.h"

namespace starpipe::sources {

struct partition_source_state {
  partition_source_settings settings;
  caf::actor supervisor;
  std::unique_ptr<connect::record_converter> converter;
  std::unique_ptr<stream_load::row_encoder> encoder;
  std::map<std::string, caf::actor> writers; // table -> writer
  uint64_t next_seq = 0;
  bool failed = false;
  std::set<std::string> fed_tables; // tables given rows since the last caught-up signal
  topic_partition tp;
  static inline const char* name = "partition_source";
};

namespace {

struct table_rows {
  std::string data;
  size_t rows = 0;
};

} // namespace

caf::behavior partition_source(caf::stateful_actor<partition_source_state>* self, partition_source_settings settings,
                               caf::actor supervisor) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  st.converter = std::make_unique<connect::record_converter>(st.settings.connector->value_converter,
                                                             st.settings.connector->format);
  st.encoder = std::make_unique<stream_load::row_encoder>(st.settings.connector->format,
                                                          st.settings.connector->row_delimiter);
  return {
      [self](batch_atom, const record_batch& batch) {
        auto& st = self->state;
        if (st.failed || batch.records->items.empty()) return;
        // A batch holds one partition's records, so one topic and (until transforms route
        // records) one target table.
        std::map<std::string, table_rows> by_table;
        const std::string& table = st.settings.connector->table_for(batch.tp.topic);
        auto& out = by_table[table];
        out.data.reserve(static_cast<size_t>(batch.bytes));
        int64_t last_good = -1;
        std::string error;
        std::optional<std::pair<int64_t, std::string>> bad; // offset, reason
        for (auto* m : batch.records->items) {
          size_t mark = st.encoder->begin_row(out.data);
          auto status = st.converter->convert(static_cast<const char*>(m->payload), m->len, out.data, error);
          if (status == connect::convert_status::row) {
            st.encoder->end_row(out.data);
            ++out.rows;
          } else {
            stream_load::row_encoder::rollback_row(out.data, mark);
            if (status == connect::convert_status::error) {
              bad = std::make_pair(m->offset, error);
              break;
            }
          }
          last_good = m->offset;
        }
        uint64_t seq = st.next_seq++;
        int parts = 0;
        for (auto& [table, rows] : by_table)
          if (rows.rows > 0) ++parts;
        if (last_good >= 0)
          self->send(st.supervisor, register_atom::value, batch.tp, seq, last_good, parts, batch.bytes,
                     st.settings.owner);
        st.tp = batch.tp;
        for (auto& [table, rows] : by_table) {
          if (rows.rows == 0) continue;
          st.fed_tables.insert(table);
          auto it = st.writers.find(table);
          if (it == st.writers.end()) {
            // The writer is looked up once per table; await keeps the partition's order.
            row_fragment frag{batch.tp, seq, table, std::move(rows.data), rows.rows};
            self->request(st.supervisor, caf::infinite, writer_atom::value, table)
                .await([self, frag](const caf::actor& w) mutable {
                  self->state.writers[frag.table] = w;
                  self->send(w, batch_atom::value, std::move(frag));
                });
            continue;
          }
          self->send(it->second, batch_atom::value, row_fragment{batch.tp, seq, table, std::move(rows.data), rows.rows});
        }
        if (bad) {
          st.failed = true;
          std::string text = "cannot convert record at topic " + batch.tp.topic + ", partition " +
                             std::to_string(batch.tp.partition) + ", offset " + std::to_string(bad->first) + ": " +
                             bad->second + " (errors.tolerance=none: the task stops and the offset is not committed "
                             "past this record)";
          self->send(st.supervisor, failed_atom::value, batch.tp, bad->first, text);
        }
      },
      [self](caught_up_atom) {
        auto& st = self->state;
        for (const auto& table : st.fed_tables) {
          auto it = st.writers.find(table);
          if (it != st.writers.end()) self->send(it->second, caught_up_atom::value, st.tp);
        }
        st.fed_tables.clear();
      },
      [](stop_atom) { return true; },
  };
}

caf::actor spawn_partition_source(caf::actor_system& sys, partition_source_settings settings, caf::actor supervisor) {
  return sys.spawn(partition_source, std::move(settings), std::move(supervisor));
}

} // namespace starpipe::sources
