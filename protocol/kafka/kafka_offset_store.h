#pragma once
// The exactly-once offset store over a consumer's own group (librdkafka, blocking calls with
// a 10 s deadline each). Used on the consumer's thread, in its rebalance callback and its
// checkpoint driver.
#include <librdkafka/rdkafka.h>

#include "protocol/exactly_once/offset_store.h"

namespace starpipe::kafka {

class kafka_offset_store : public checkpoint::offset_store {
public:
  kafka_offset_store(rd_kafka_t* rk, std::string id) : rk_(rk), id_(std::move(id)) {}
  std::optional<std::map<topic_partition, checkpoint::committed_offset>> committed(
      const std::vector<topic_partition>& partitions) override;
  bool commit(const offset_map& offsets, const std::string& metadata) override;
  int64_t start_offset(const topic_partition& partition) override;

private:
  rd_kafka_t* rk_;
  std::string id_; // the task, for logs
};

} // namespace starpipe::kafka
