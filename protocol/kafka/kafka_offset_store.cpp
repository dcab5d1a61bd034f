#include "protocol/kafka/kafka_offset_store.h"

#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace starpipe::kafka {

namespace {
constexpr int deadline_ms = 10000;
} // namespace

std::optional<std::map<topic_partition, checkpoint::committed_offset>> kafka_offset_store::committed(
    const std::vector<topic_partition>& partitions) {
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
  std::optional<std::map<topic_partition, checkpoint::committed_offset>> out;
  if (rd_kafka_committed(rk_, list, deadline_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    out.emplace();
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      checkpoint::committed_offset c;
      c.offset = e.offset >= 0 ? e.offset : -1;
      if (e.metadata && e.metadata_size > 0) c.metadata.assign(static_cast<const char*>(e.metadata), e.metadata_size);
      (*out)[{e.topic, e.partition}] = std::move(c);
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

bool kafka_offset_store::commit(const offset_map& offsets, const std::string& metadata) {
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
  auto err = rd_kafka_commit(rk_, list, 0);
  bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (ok)
    for (int i = 0; i < list->cnt && ok; ++i)
      if (list->elems[i].err) ok = false, err = list->elems[i].err;
  rd_kafka_topic_partition_list_destroy(list);
  if (!ok) LOG_WARN("exactly-once", id_ << " offset commit failed: " << rd_kafka_err2str(err));
  return ok;
}

int64_t kafka_offset_store::start_offset(const topic_partition& tp) {
  char reset[32] = "earliest";
  size_t size = sizeof reset;
  if (rd_kafka_topic_conf_t* tc = rd_kafka_default_topic_conf_dup(rk_)) {
    rd_kafka_topic_conf_get(tc, "auto.offset.reset", reset, &size);
    rd_kafka_topic_conf_destroy(tc);
  }
  int64_t low = -1, high = -1;
  if (rd_kafka_query_watermark_offsets(rk_, tp.topic.c_str(), tp.partition, &low, &high, deadline_ms) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    return -1;
  bool latest = std::strcmp(reset, "latest") == 0 || std::strcmp(reset, "largest") == 0 || std::strcmp(reset, "end") == 0;
  return latest ? high : low;
}

} // namespace starpipe::kafka
