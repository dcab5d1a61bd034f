#pragma once
// A compacted Kafka topic used as a replicated log of keyed records: distributed mode's
// config and status topics. One reader thread reads every partition from the beginning and
// hands each record to a callback, in order; writers wait for the broker's acknowledgement.
// Blocking by design: it is called from the herder's and the REST API's threads, never
// from a CAF scheduler thread.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "protocol/connect/internal_topics.h"

namespace starpipe::pipelines::cluster {

struct kafka_log_settings {
  std::string bootstrap_servers;
  std::string topic;
  int partitions = 1;
  // Every write goes to partition 0: the config topic's records must keep one order.
  bool single_partition_writes = false;
  int replication = 3; // -1: the broker's default
  std::map<std::string, std::string> client_settings; // security.protocol, ssl.*, sasl.*
  std::string client_id;
};

class kafka_log {
public:
  using callback = std::function<void(const connect::stored_record&)>;
  kafka_log(kafka_log_settings settings, callback on_record);
  ~kafka_log();
  kafka_log(const kafka_log&) = delete;
  kafka_log& operator=(const kafka_log&) = delete;

  // Creates the topic compacted when it is missing, then starts reading it. Returns an error
  // text naming the topic, or empty.
  std::string open(std::chrono::milliseconds timeout);
  // Appends one record (a tombstone when value is empty) and waits for the acknowledgement.
  std::string write(const connect::stored_record& r, std::chrono::milliseconds timeout);
  // Waits until every record written before the call has been handed to the callback.
  // False on timeout: the caller's view may be stale.
  bool catch_up(std::chrono::milliseconds timeout);
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace starpipe::pipelines::cluster
