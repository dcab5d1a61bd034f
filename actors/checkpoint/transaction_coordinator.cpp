#include "actors/checkpoint/transaction_coordinator.h"

#include <cstdlib>
#include <cstring>
#include <regex>
#include <thread>

#include "common/log.h"
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

// Committed offsets and metadata of `list`, filled in place. False when Kafka did not answer.
bool read_committed(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list) {
  return rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::string metadata_of(const rd_kafka_topic_partition_t& p) {
  if (!p.metadata || p.metadata_size == 0) return {};
  return std::string(static_cast<const char*>(p.metadata), p.metadata_size);
}

} // namespace

transaction_coordinator::transaction_coordinator(std::shared_ptr<const conf::connector_config> connector,
                                                 std::string slot, std::string id)
    : connector_(std::move(connector)), slot_(std::move(slot)), id_(std::move(id)),
      client_(stream_load::client_settings_for(*connector_)) {
  // A decision already made must be carried out: commits are retried for about ten minutes.
  retry_.max_retries = 60;
  retry_.max_backoff = std::chrono::milliseconds(10000);
}

void transaction_coordinator::settle_named(const std::vector<prepared_label>& named) {
  for (const auto& l : named) {
    if (settled_.count(l.label)) continue;
    auto r = stream_load::finish_transaction(client_, connector_->database, l.table, l.label, true, retry_, pause_for);
    if (r.ok) {
      settled_.insert(l.label);
      LOG_INFO("exactly-once", id_ << " transaction " << l.label << " named by a committed offset is committed");
    } else {
      LOG_ERROR("exactly-once", id_ << " transaction " << l.label << " of table " << l.table
                                    << " is named by a committed Kafka offset but could not be committed: "
                                    << r.failure
                                    << (r.failure.find("not in StarRocks") != std::string::npos
                                            ? " -- its rows are lost (the transaction timed out before it was "
                                              "committed: raise prepared_transaction_default_timeout_second)"
                                            : ""));
    }
  }
}

std::map<std::string, uint64_t> transaction_coordinator::recover_at_start(rd_kafka_t* rk,
                                                                         const std::vector<std::string>& topics) {
  std::map<std::string, uint64_t> last_named; // this slot's highest recorded label number per table
  std::vector<prepared_label> named;
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
    auto* list = rd_kafka_topic_partition_list_new(16);
    std::optional<std::regex> re;
    if (connector_->topics_regex) re.emplace(*connector_->topics_regex);
    for (int i = 0; i < md->topic_cnt; ++i) {
      std::string t = md->topics[i].topic;
      bool wanted = re ? std::regex_match(t, *re) : std::find(topics.begin(), topics.end(), t) != topics.end();
      if (!wanted) continue;
      for (int p = 0; p < md->topics[i].partition_cnt; ++p)
        rd_kafka_topic_partition_list_add(list, t.c_str(), md->topics[i].partitions[p].id);
    }
    rd_kafka_metadata_destroy(md);
    if (list->cnt > 0 && read_committed(rk, list)) {
      for (int i = 0; i < list->cnt; ++i)
        for (auto& l : stream_load::decode_checkpoint_record(metadata_of(list->elems[i]))) named.push_back(l);
    } else if (list->cnt > 0) {
      LOG_WARN("exactly-once", id_ << " could not read committed offsets at start; lingering transactions of this "
                                      "worker are left to StarRocks' timeouts");
    }
    rd_kafka_topic_partition_list_destroy(list);
  }
  settle_named(named);
  std::set<std::string> named_labels;
  for (const auto& l : named) {
    named_labels.insert(l.label);
    if (l.slot == slot_) last_named[l.table] = std::max(last_named[l.table], l.sequence);
  }
  std::set<std::string> tables;
  for (const auto& [t, n] : last_named) tables.insert(t);
  for (const auto& t : topics) tables.insert(connector_->table_for(t));

  // Probe this slot's labels past the last recorded one: a transaction begun or prepared
  // there was never decided (the process died first) and is rolled back.
  std::map<std::string, uint64_t> next;
  for (const auto& table : tables) {
    uint64_t from = last_named.count(table) ? last_named[table] : 0;
    uint64_t last_used = from;
    int unknown_run = 0;
    for (uint64_t n = from + 1; unknown_run < 3 && n < from + 100000; ++n) {
      std::string label = stream_load::make_label(connector_->label_prefix, table, slot_, n);
      std::string state = client_.state_of_label(connector_->database, label);
      if (state.empty()) {
        LOG_WARN("exactly-once", id_ << " cannot read the state of " << label << "; stopping the lingering-transaction scan");
        last_used = n + 2; // skip past what may exist
        break;
      }
      if (state == "UNKNOWN") {
        ++unknown_run;
        continue;
      }
      unknown_run = 0;
      last_used = n;
      if ((state == "PREPARE" || state == "PREPARED") && !named_labels.count(label)) {
        auto r = stream_load::finish_transaction(client_, connector_->database, table, label, false, retry_, pause_for);
        LOG_INFO("exactly-once", id_ << " lingering transaction " << label << " (" << state << ") "
                                     << (r.ok ? "rolled back" : "could not be rolled back: " + r.failure));
      }
    }
    next[table] = last_used + 1;
  }
  return next;
}

void transaction_coordinator::recover_partitions(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* partitions) {
  if (partitions->cnt == 0) return;
  auto* list = rd_kafka_topic_partition_list_copy(partitions);
  if (!read_committed(rk, list)) {
    LOG_WARN("exactly-once", id_ << " could not read committed offsets of the assigned partitions; transactions "
                                    "they name are committed by the next owner or at the next start");
    rd_kafka_topic_partition_list_destroy(list);
    return;
  }
  std::vector<prepared_label> named;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].offset >= 0) committed_[{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
    for (auto& l : stream_load::decode_checkpoint_record(metadata_of(list->elems[i]))) named.push_back(l);
  }
  rd_kafka_topic_partition_list_destroy(list);
  settle_named(named);
}

bool transaction_coordinator::commit_offsets(rd_kafka_t* rk, const offset_map& offsets, const std::string& metadata) {
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [tp, off] : offsets) {
    auto* e = rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
    e->offset = off;
    if (!metadata.empty()) {
      e->metadata = std::malloc(metadata.size()); // freed by the list
      std::memcpy(e->metadata, metadata.data(), metadata.size());
      e->metadata_size = metadata.size();
    }
  }
  auto err = rd_kafka_commit(rk, list, 0);
  bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (ok)
    for (int i = 0; i < list->cnt && ok; ++i)
      if (list->elems[i].err) ok = false, err = list->elems[i].err;
  rd_kafka_topic_partition_list_destroy(list);
  if (!ok) LOG_WARN("exactly-once", id_ << " offset commit failed: " << rd_kafka_err2str(err));
  return ok;
}

bool transaction_coordinator::read_back_matches(rd_kafka_t* rk, const offset_map& offsets,
                                                const std::string& metadata) {
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [tp, off] : offsets) rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
  bool ok = read_committed(rk, list);
  for (int i = 0; ok && i < list->cnt; ++i) {
    auto want = offsets.find({list->elems[i].topic, list->elems[i].partition});
    ok = want != offsets.end() && list->elems[i].offset == want->second && metadata_of(list->elems[i]) == metadata;
  }
  rd_kafka_topic_partition_list_destroy(list);
  return ok;
}

void transaction_coordinator::commit_decided() {
  std::vector<prepared_label> still;
  for (const auto& l : decided_) {
    auto r = stream_load::finish_transaction(client_, connector_->database, l.table, l.label, true, retry_, pause_for);
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

bool transaction_coordinator::decide(rd_kafka_t* rk, const prepared_checkpoint& prepared,
                                     const std::vector<topic_partition>& assigned, bool revoking) {
  undecided_.insert(undecided_.end(), prepared.labels.begin(), prepared.labels.end());
  offset_map offsets = prepared.offsets;
  for (const auto& tp : assigned)
    if (!offsets.count(tp))
      if (auto it = committed_.find(tp); it != committed_.end()) offsets[tp] = it->second;
  std::vector<prepared_label> record = decided_;
  record.insert(record.end(), undecided_.begin(), undecided_.end());
  bool changed = !record.empty();
  for (const auto& [tp, off] : prepared.offsets)
    if (!committed_.count(tp) || committed_[tp] != off) changed = true;
  if (!changed) return true;
  if (offsets.empty() && !undecided_.empty()) {
    // Rows without any partition to carry the record cannot happen (every row comes from an
    // assigned partition); refuse to decide rather than commit blindly.
    LOG_ERROR("exactly-once", id_ << " prepared " << labels_text(undecided_) << " but owns no partition to record them");
    return false;
  }
  std::string metadata = record.empty() ? std::string() : stream_load::encode_checkpoint_record(record);
  bool durable = commit_offsets(rk, offsets, metadata) || read_back_matches(rk, offsets, metadata);
  if (durable) {
    for (const auto& [tp, off] : offsets) committed_[tp] = off;
    decided_.insert(decided_.end(), undecided_.begin(), undecided_.end());
    undecided_.clear();
    LOG_DEBUG("exactly-once", id_ << " checkpoint recorded with " << labels_text(record));
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

void transaction_coordinator::abandon(const std::string& why) {
  for (const auto& l : undecided_) {
    auto r = stream_load::finish_transaction(client_, connector_->database, l.table, l.label, false, retry_, pause_for);
    LOG_INFO("exactly-once", id_ << " rolled back " << l.label << " (" << why << ")"
                                 << (r.ok ? "" : ": rollback not confirmed: " + r.failure));
  }
  undecided_.clear();
  decided_.clear();
}

} // namespace starpipe::checkpoint
