#include "protocol/exactly_once/transaction_coordinator.h"

#include <algorithm>
#include <thread>

#include "common/log.h"
#include "protocol/exactly_once/checkpoint_record.h"
#include "protocol/stream_load/label.h"

namespace starpipe::checkpoint {

using stream_load::prepared_label;

namespace {

void pause_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

std::string labels_text(const std::vector<prepared_label>& labels) {
  std::string s;
  for (const auto& l : labels) s += (s.empty() ? "" : ",") + l.label;
  return s;
}

} // namespace

transaction_coordinator::transaction_coordinator(std::shared_ptr<const conf::connector_config> connector,
                                                 std::string worker_id, int task, std::string id)
    : transaction_coordinator(connector, std::move(worker_id), task, std::move(id),
                              std::make_unique<stream_load::stream_load_client>(stream_load::client_settings_for(*connector)),
                              pause_for) {}

transaction_coordinator::transaction_coordinator(std::shared_ptr<const conf::connector_config> connector,
                                                 std::string worker_id, int task, std::string id,
                                                 std::unique_ptr<stream_load::transaction_api> api,
                                                 stream_load::sleeper pause)
    : connector_(std::move(connector)), worker_id_(std::move(worker_id)), task_(task),
      slot_(stream_load::writer_slot(worker_id_, task_, stream_load::random_token(6))), id_(std::move(id)),
      client_(std::move(api)), pause_(std::move(pause)) {
  // A decision already made must be carried out: commits are retried for about ten minutes.
  retry_.max_retries = 60;
  retry_.max_backoff = std::chrono::milliseconds(10000);
}

std::string transaction_coordinator::record_text() const {
  stream_load::checkpoint_record r{slot_, decided_};
  r.txns.insert(r.txns.end(), undecided_.begin(), undecided_.end());
  return stream_load::encode_checkpoint_record(r);
}

void transaction_coordinator::settle_named(const std::vector<prepared_label>& named) {
  for (const auto& l : named) {
    if (settled_.count(l.label)) continue;
    auto r = stream_load::finish_transaction(*client_, connector_->database, l.table, l.label, true, retry_, pause_);
    if (r.ok) {
      settled_.insert(l.label);
      LOG_INFO("exactly-once", id_ << " transaction " << l.label << " named by a recorded checkpoint is committed");
    } else if (r.failure.find("not in StarRocks") != std::string::npos) {
      LOG_ERROR("exactly-once", id_ << " transaction " << l.label << " of table " << l.table
                                    << " is named by a recorded checkpoint but could not be committed: "
                                    << r.failure
                                    << " -- its rows are lost (the transaction timed out before it was committed: "
                                       "raise prepared_transaction_default_timeout_second)");
    } else {
      // Still decided: it stays named by this task's records and is committed at its next checkpoint.
      LOG_WARN("exactly-once", id_ << " transaction " << l.label << " named by a recorded checkpoint could not be "
                                   << "committed yet (" << r.failure << "); retried at the next checkpoint");
      if (std::find(decided_.begin(), decided_.end(), l) == decided_.end()) decided_.push_back(l);
    }
  }
}

// A retired slot's transactions past the last one a record names were begun or prepared by an
// owner that died before deciding them: roll them back. Probing stops after three unused labels.
void transaction_coordinator::roll_back_lingering(const std::vector<stream_load::checkpoint_record>& records,
                                                  const std::set<std::string>& tables) {
  std::map<std::string, std::map<std::string, uint64_t>> last_named; // slot -> table -> sequence
  std::set<std::string> named;
  for (const auto& r : records) {
    for (const auto& s : r.slots())
      if (s != slot_ && !swept_.count(s)) last_named[s];
    for (const auto& l : r.txns) {
      named.insert(l.label);
      auto& n = last_named[l.slot][l.table];
      n = std::max(n, l.sequence);
    }
  }
  for (auto& [slot, per_table] : last_named) {
    if (slot == slot_ || swept_.count(slot)) continue;
    std::set<std::string> probe = tables;
    for (const auto& [t, n] : per_table) probe.insert(t);
    bool complete = true;
    for (const auto& table : probe) {
      uint64_t from = per_table.count(table) ? per_table[table] : 0;
      int unknown_run = 0;
      for (uint64_t n = from + 1; unknown_run < 3 && n < from + 100000; ++n) {
        std::string label = stream_load::make_label(connector_->label_prefix, table, slot, n);
        std::string state = client_->state_of_label(connector_->database, label);
        if (state.empty()) {
          LOG_WARN("exactly-once", id_ << " cannot read the state of " << label
                                       << "; lingering transactions of slot " << slot
                                       << " are left to StarRocks' timeouts");
          complete = false;
          break;
        }
        if (state == "UNKNOWN") {
          ++unknown_run;
          continue;
        }
        unknown_run = 0;
        if ((state == "PREPARE" || state == "PREPARED") && !named.count(label)) {
          auto r = stream_load::finish_transaction(*client_, connector_->database, table, label, false, retry_, pause_);
          LOG_INFO("exactly-once", id_ << " lingering transaction " << label << " (" << state << ") "
                                       << (r.ok ? "rolled back" : "could not be rolled back: " + r.failure));
        }
      }
    }
    if (complete) swept_.insert(slot);
  }
}

std::string transaction_coordinator::take_streams(position_store& store, const std::vector<stream_id>& added,
                                                  const std::vector<stream_id>& owned) {
  if (!added.empty()) {
    if (auto recorded = store.recorded(added)) {
      std::vector<stream_load::checkpoint_record> records;
      std::vector<prepared_label> named;
      std::set<std::string> tables;
      for (const auto& s : added) {
        tables.insert(connector_->table_for(s.name));
        const recorded_position r = recorded->count(s) ? recorded->at(s) : recorded_position{};
        if (r.position) recorded_[s] = *r.position;
        records.push_back(stream_load::decode_checkpoint_record(r.metadata));
        named.insert(named.end(), records.back().txns.begin(), records.back().txns.end());
      }
      settle_named(named);
      roll_back_lingering(records, tables);
    } else {
      LOG_WARN("exactly-once", id_ << " could not read the recorded positions of the streams it took; transactions "
                                      "they name are settled by their next owner");
    }
  }
  return rotate(store, owned);
}

std::string transaction_coordinator::rotate(position_store& store, const std::vector<stream_id>& owned) {
  slot_ = stream_load::writer_slot(worker_id_, task_, stream_load::random_token(6));
  if (!owned.empty() && !record(store, owned, {}, record_text()))
    LOG_WARN("exactly-once", id_ << " could not record slot " << slot_ << " on its streams");
  LOG_DEBUG("exactly-once", id_ << " now labels its transactions with slot " << slot_);
  return slot_;
}

bool transaction_coordinator::record(position_store& store, const std::vector<stream_id>& streams,
                                     const position_map& positions, const std::string& metadata) {
  if (store.record(streams, positions, metadata)) return true;
  auto recorded = store.recorded(streams);
  if (!recorded) return false;
  for (const auto& s : streams) {
    auto it = recorded->find(s);
    if (it == recorded->end() || it->second.metadata != metadata) return false;
    if (auto p = positions.find(s); p != positions.end() && it->second.position != p->second) return false;
  }
  return true;
}

void transaction_coordinator::commit_decided() {
  std::vector<prepared_label> still;
  for (const auto& l : decided_) {
    auto r = stream_load::finish_transaction(*client_, connector_->database, l.table, l.label, true, retry_, pause_);
    if (r.ok) continue;
    if (r.failure.find("not in StarRocks") != std::string::npos) {
      LOG_ERROR("exactly-once", id_ << " transaction " << l.label << " was aborted by StarRocks after its positions "
                                    << "were recorded: its rows are lost (" << r.failure << ")");
      continue;
    }
    LOG_WARN("exactly-once", id_ << " commit of " << l.label << " not confirmed (" << r.failure
                                 << "); retried at the next checkpoint, and named by every record until then");
    still.push_back(l);
  }
  decided_ = std::move(still);
}

bool transaction_coordinator::decide(position_store& store, const prepared_checkpoint& prepared,
                                     const std::vector<stream_id>& owned, bool revoking) {
  undecided_.insert(undecided_.end(), prepared.labels.begin(), prepared.labels.end());
  bool changed = !decided_.empty() || !undecided_.empty();
  std::vector<stream_id> streams = owned;
  for (const auto& [s, p] : prepared.positions) {
    if (auto it = recorded_.find(s); it == recorded_.end() || it->second != p) changed = true;
    if (std::find(streams.begin(), streams.end(), s) == streams.end()) streams.push_back(s);
  }
  if (!changed) return true;
  if (streams.empty()) {
    // Rows without any stream to carry the record cannot happen (every row comes from an
    // owned stream); refuse to decide rather than commit blindly.
    LOG_ERROR("exactly-once", id_ << " prepared " << labels_text(undecided_) << " but owns no stream to record them");
    return false;
  }
  std::string metadata = record_text();
  bool durable = record(store, streams, prepared.positions, metadata);
  if (durable) {
    for (const auto& [s, p] : prepared.positions) recorded_[s] = p;
    decided_.insert(decided_.end(), undecided_.begin(), undecided_.end());
    undecided_.clear();
    LOG_DEBUG("exactly-once", id_ << " checkpoint recorded: " << metadata);
    commit_decided();
    if (revoking) decided_.clear(); // still named in the record: the streams' next owner commits them
    return true;
  }
  if (revoking) abandon("the positions could not be recorded while the streams were being given up");
  else
    LOG_WARN("exactly-once", id_ << " checkpoint not recorded; " << labels_text(undecided_)
                                 << " stay prepared and are named by the next checkpoint");
  return false;
}

void transaction_coordinator::roll_back(const std::vector<stream_load::prepared_label>& labels,
                                        const std::string& why) {
  for (const auto& l : labels) {
    auto r = stream_load::finish_transaction(*client_, connector_->database, l.table, l.label, false, retry_, pause_);
    LOG_INFO("exactly-once", id_ << " rolled back " << l.label << " (" << why << ")"
                                 << (r.ok ? "" : ": rollback not confirmed: " + r.failure));
  }
}

void transaction_coordinator::abandon(const std::string& why) {
  roll_back(undecided_, why);
  undecided_.clear();
  decided_.clear();
}

} // namespace starpipe::checkpoint
