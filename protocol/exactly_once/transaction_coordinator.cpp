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
      LOG_INFO("exactly-once", id_ << " transaction " << l.label << " named by a committed offset is committed");
    } else if (r.failure.find("not in StarRocks") != std::string::npos) {
      LOG_ERROR("exactly-once", id_ << " transaction " << l.label << " of table " << l.table
                                    << " is named by a committed Kafka offset but could not be committed: "
                                    << r.failure
                                    << " -- its rows are lost (the transaction timed out before it was committed: "
                                       "raise prepared_transaction_default_timeout_second)");
    } else {
      // Still decided: it stays named by this task's records and is committed at its next checkpoint.
      LOG_WARN("exactly-once", id_ << " transaction " << l.label << " named by a committed offset could not be "
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

std::string transaction_coordinator::take_partitions(offset_store& offsets, const std::vector<topic_partition>& added,
                                                     const std::vector<topic_partition>& owned) {
  if (!added.empty()) {
    if (auto committed = offsets.committed(added)) {
      std::vector<stream_load::checkpoint_record> records;
      std::vector<prepared_label> named;
      std::set<std::string> tables;
      for (const auto& tp : added) {
        tables.insert(connector_->table_for(tp.topic));
        const committed_offset c = committed->count(tp) ? committed->at(tp) : committed_offset{};
        if (c.offset >= 0) committed_[tp] = c.offset;
        records.push_back(stream_load::decode_checkpoint_record(c.metadata));
        named.insert(named.end(), records.back().txns.begin(), records.back().txns.end());
      }
      settle_named(named);
      roll_back_lingering(records, tables);
    } else {
      LOG_WARN("exactly-once", id_ << " could not read committed offsets of the assigned partitions; transactions "
                                      "they name are settled by their next owner");
    }
  }
  return rotate(offsets, owned);
}

std::string transaction_coordinator::rotate(offset_store& offsets, const std::vector<topic_partition>& owned) {
  slot_ = stream_load::writer_slot(worker_id_, task_, stream_load::random_token(6));
  offset_map claim;
  for (const auto& tp : owned) {
    auto it = committed_.find(tp);
    int64_t off = it != committed_.end() ? it->second : offsets.start_offset(tp);
    if (off >= 0) claim[tp] = off;
    else
      LOG_WARN("exactly-once", id_ << " cannot tell where " << tp.to_string() << " starts; slot " << slot_
                                   << " is recorded there at the first checkpoint");
  }
  if (!claim.empty()) {
    std::string text = record_text();
    if (record(offsets, claim, text))
      for (const auto& [tp, off] : claim) committed_[tp] = off;
    else
      LOG_WARN("exactly-once", id_ << " could not record slot " << slot_ << " on its partitions");
  }
  LOG_DEBUG("exactly-once", id_ << " now labels its transactions with slot " << slot_);
  return slot_;
}

bool transaction_coordinator::record(offset_store& store, const offset_map& offsets, const std::string& metadata) {
  if (store.commit(offsets, metadata)) return true;
  std::vector<topic_partition> partitions;
  for (const auto& [tp, off] : offsets) partitions.push_back(tp);
  auto committed = store.committed(partitions);
  if (!committed) return false;
  for (const auto& [tp, off] : offsets) {
    auto it = committed->find(tp);
    if (it == committed->end() || it->second.offset != off || it->second.metadata != metadata) return false;
  }
  return true;
}

void transaction_coordinator::commit_decided() {
  std::vector<prepared_label> still;
  for (const auto& l : decided_) {
    auto r = stream_load::finish_transaction(*client_, connector_->database, l.table, l.label, true, retry_, pause_);
    if (r.ok) continue;
    if (r.failure.find("not in StarRocks") != std::string::npos) {
      LOG_ERROR("exactly-once", id_ << " transaction " << l.label << " was aborted by StarRocks after its offsets "
                                    << "were committed: its rows are lost (" << r.failure << ")");
      continue;
    }
    LOG_WARN("exactly-once", id_ << " commit of " << l.label << " not confirmed (" << r.failure
                                 << "); retried at the next checkpoint, and named by every record until then");
    still.push_back(l);
  }
  decided_ = std::move(still);
}

bool transaction_coordinator::decide(offset_store& store, const prepared_checkpoint& prepared,
                                     const std::vector<topic_partition>& assigned, bool revoking) {
  undecided_.insert(undecided_.end(), prepared.labels.begin(), prepared.labels.end());
  const offset_map reached = kafka::offsets_after(prepared.positions);
  offset_map offsets = reached;
  for (const auto& tp : assigned)
    if (!offsets.count(tp))
      if (auto it = committed_.find(tp); it != committed_.end()) offsets[tp] = it->second;
  bool changed = !decided_.empty() || !undecided_.empty();
  for (const auto& [tp, off] : reached)
    if (!committed_.count(tp) || committed_[tp] != off) changed = true;
  if (!changed) return true;
  if (offsets.empty() && !undecided_.empty()) {
    // Rows without any partition to carry the record cannot happen (every row comes from an
    // assigned partition); refuse to decide rather than commit blindly.
    LOG_ERROR("exactly-once", id_ << " prepared " << labels_text(undecided_) << " but owns no partition to record them");
    return false;
  }
  std::string metadata = record_text();
  bool durable = record(store, offsets, metadata);
  if (durable) {
    for (const auto& [tp, off] : offsets) committed_[tp] = off;
    decided_.insert(decided_.end(), undecided_.begin(), undecided_.end());
    undecided_.clear();
    LOG_DEBUG("exactly-once", id_ << " checkpoint recorded: " << metadata);
    commit_decided();
    if (revoking) decided_.clear(); // still named in Kafka: the next owner commits them
    return true;
  }
  if (revoking) abandon("the offset commit was refused while the partitions were being revoked");
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
