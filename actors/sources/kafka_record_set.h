#pragma once
// The Kafka source's record set: the librdkafka messages of one partition from one poll,
// owned until the batch is dropped (no payload copy). A record's position is its offset.
#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

#include "common/kafka_client.h"
#include "protocol/kafka/kafka_positions.h"
#include "protocol/pipeline/source_contract.h"

namespace starpipe::sources {

class kafka_record_set final : public pipeline::record_set {
public:
  explicit kafka_record_set(std::string topic) : topic_(std::move(topic)) {}
  kafka_record_set(const kafka_record_set&) = delete;
  kafka_record_set& operator=(const kafka_record_set&) = delete;
  ~kafka_record_set() override {
    for (auto* m : messages_) rd_kafka_message_destroy(m);
  }
  void add(rd_kafka_message_t* m) { messages_.push_back(m); }
  bool empty() const { return messages_.empty(); }
  int64_t last_offset() const { return messages_.back()->offset; }

  size_t size() const override { return messages_.size(); }
  pipeline::record_view at(size_t i) const override {
    const rd_kafka_message_t* m = messages_[i];
    pipeline::record_view v;
    v.topic = topic_;
    v.partition = m->partition;
    v.offset = m->offset;
    v.key = static_cast<const char*>(m->key);
    v.key_len = m->key_len;
    v.value = static_cast<const char*>(m->payload);
    v.value_len = m->len;
    v.position = kafka::position_of_offset(m->offset);
    return v;
  }
  int64_t timestamp(size_t i) const override {
    rd_kafka_timestamp_type_t type;
    return rd_kafka_message_timestamp(messages_[i], &type);
  }
  pipeline::record_headers headers(size_t i) const override { return headers_of(messages_[i]); }

private:
  std::string topic_;
  std::vector<rd_kafka_message_t*> messages_;
};

} // namespace starpipe::sources
