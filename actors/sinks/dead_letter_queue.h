#pragma once
// errors.deadletterqueue.topic.name: records skipped under errors.tolerance=all are produced,
// with their original key, value and headers, to a dead-letter topic, optionally with Kafka
// Connect's __connect.errors.* context headers. One producer per connector, on its own thread.
#include <caf/all.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace starpipe::sinks {

struct dead_letter {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::string>> headers; // the record's own
  std::string stage;      // KEY_CONVERTER, VALUE_CONVERTER, TRANSFORMATION, TASK_PUT
  std::string class_name; // the converter or transform
  std::string reason;
  std::string exception_class = "org.apache.kafka.connect.errors.DataException";
};

// A row StarRocks rejected: its record is read again from Kafka by offset (a writer keeps
// encoded rows, not the records), then produced as a dead letter.
struct rejected_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string reason;
};

struct dead_letter_settings {
  std::string bootstrap_servers;
  std::map<std::string, std::string> producer_settings; // worker producer.*
  std::map<std::string, std::string> consumer_settings; // the task consumers' settings, to re-read records
  std::string topic;
  bool context_headers = false;
  std::string connector;
};

// Handlers, each -> std::string: "" when every record was acknowledged by Kafka, else why not:
//   (dlq_atom, std::vector<dead_letter>)
//   (rejected_atom, std::vector<rejected_record>): re-read each record, then as above, with
//       stage TASK_PUT and StarRocks' reason.
caf::actor spawn_dead_letter_queue(caf::actor_system& sys, dead_letter_settings settings);

} // namespace starpipe::sinks

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::sinks::dead_letter>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::sinks::rejected_record>)
