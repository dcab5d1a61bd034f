#include "actors/sinks/dead_letter_queue.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>

#include "actors/messages.h"
#include "common/kafka_client.h"
#include "common/log.h"

namespace starpipe::sinks {

namespace {

struct producer {
  rd_kafka_t* rk = nullptr;
  std::atomic<int> failures{0};
  std::string last_error;
  ~producer() {
    if (rk) {
      rd_kafka_flush(rk, 5000);
      rd_kafka_destroy(rk);
    }
  }
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (!m->err) return;
  auto* p = static_cast<producer*>(opaque);
  ++p->failures;
  p->last_error = rd_kafka_err2str(m->err);
}

std::string create(producer& p, const dead_letter_settings& s) {
  std::map<std::string, std::string> settings = {{"bootstrap.servers", s.bootstrap_servers},
                                                 {"client.id", "connector-dlq-producer-" + s.connector},
                                                 {"enable.idempotence", "true"},
                                                 {"linger.ms", "5"}};
  for (const auto& [k, v] : s.producer_settings) settings[k] = v;
  std::string error;
  p.rk = new_kafka_client(RD_KAFKA_PRODUCER, settings, error, [&p](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, &p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  });
  return p.rk ? std::string() : error;
}

// Produces `letters` and waits until Kafka acknowledged every one.
std::string produce_letters(producer& p, const dead_letter_settings& settings, const std::vector<dead_letter>& letters) {
  p.failures = 0;
  for (const auto& d : letters) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(static_cast<int>(d.headers.size()) + 10);
    for (const auto& [k, v] : d.headers) rd_kafka_header_add(hdrs, k.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    if (settings.context_headers) {
      auto add = [&](const char* k, const std::string& v) {
        rd_kafka_header_add(hdrs, k, -1, v.data(), static_cast<ssize_t>(v.size()));
      };
      add("__connect.errors.topic", d.topic);
      add("__connect.errors.partition", std::to_string(d.partition));
      add("__connect.errors.offset", std::to_string(d.offset));
      add("__connect.errors.connector.name", settings.connector);
      add("__connect.errors.task.id", "0");
      add("__connect.errors.stage", d.stage);
      add("__connect.errors.class.name", d.class_name);
      add("__connect.errors.exception.class.name", d.exception_class);
      add("__connect.errors.exception.message", d.reason);
      add("__connect.errors.exception.stacktrace", d.exception_class + ": " + d.reason);
    }
    // The original bytes, unchanged; a null key or value stays null.
    void* key = d.key ? const_cast<char*>(d.key->data()) : nullptr;
    size_t key_len = d.key ? d.key->size() : 0;
    void* value = d.value ? const_cast<char*>(d.value->data()) : nullptr;
    size_t value_len = d.value ? d.value->size() : 0;
    auto err = rd_kafka_producev(p.rk, RD_KAFKA_V_TOPIC(settings.topic.c_str()), RD_KAFKA_V_KEY(key, key_len),
                                 RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err) {
      rd_kafka_headers_destroy(hdrs);
      return std::string("producing to ") + settings.topic + ": " + rd_kafka_err2str(err);
    }
  }
  // Blocking here is fine: this actor has its own thread. The batch's offsets wait for it.
  auto err = rd_kafka_flush(p.rk, 60000);
  if (err) return std::string("dead-letter records not acknowledged: ") + rd_kafka_err2str(err);
  if (p.failures > 0) return "dead-letter records failed: " + p.last_error;
  LOG_INFO("dlq", letters.size() << " record(s) sent to dead-letter topic " << settings.topic);
  return std::string();
}

// Reads the records of `wanted` again by offset (their offsets are not committed, so Kafka
// still has them) with a consumer of its own that joins no group. Bounded: 30 s in all.
std::string reread(const dead_letter_settings& s, const std::vector<rejected_record>& wanted,
                   std::vector<dead_letter>& out) {
  std::map<std::string, std::string> settings = s.consumer_settings;
  settings["bootstrap.servers"] = s.bootstrap_servers;
  settings["group.id"] = "connect-" + s.connector + "-dlq-reread"; // never joined: partitions are assigned
  settings["enable.auto.commit"] = "false";
  settings["enable.auto.offset.store"] = "false";
  settings["enable.partition.eof"] = "false";
  settings["fetch.wait.max.ms"] = "10";
  settings["client.id"] = "connector-dlq-reread-" + s.connector;
  settings.erase("group.instance.id");
  std::string error;
  rd_kafka_t* rk = new_kafka_client(RD_KAFKA_CONSUMER, settings, error);
  if (!rk) return "cannot re-read the rejected records: " + error;
  std::map<std::pair<std::string, int32_t>, std::map<int64_t, const rejected_record*>> left;
  for (const auto& w : wanted) left[{w.topic, w.partition}][w.offset] = &w;
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(left.size()));
  for (const auto& [tp, offsets] : left)
    rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = offsets.begin()->first;
  auto err = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::string problem;
  if (err) problem = std::string("cannot re-read the rejected records: ") + rd_kafka_err2str(err);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (problem.empty() && !left.empty() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        LOG_WARN("dlq", "re-reading rejected records: " << rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    auto it = left.find({rd_kafka_topic_name(m->rkt), m->partition});
    if (it != left.end()) {
      auto at = it->second.find(m->offset);
      if (at != it->second.end()) {
        const rejected_record& w = *at->second;
        out.push_back({w.topic, w.partition, w.offset, bytes_of(m->key, m->key_len), bytes_of(m->payload, m->len),
                       headers_of(m), "TASK_PUT", "com.starrocks.connector.kafka.StarRocksSinkTask", w.reason,
                       "com.starrocks.data.load.stream.exception.StreamLoadFailException"});
        it->second.erase(at);
      }
      // Offsets passed without their record (compacted away) cannot be re-read.
      if (!it->second.empty() && it->second.begin()->first < m->offset)
        problem = "the record at topic " + it->first.first + ", partition " + std::to_string(it->first.second) +
                  ", offset " + std::to_string(it->second.begin()->first) + " is no longer in Kafka";
      if (it->second.empty()) left.erase(it);
    }
    rd_kafka_message_destroy(m);
  }
  if (problem.empty() && !left.empty()) {
    const auto& [tp, offsets] = *left.begin();
    problem = "timed out re-reading the record at topic " + tp.first + ", partition " + std::to_string(tp.second) +
              ", offset " + std::to_string(offsets.begin()->first);
  }
  rd_kafka_assign(rk, nullptr);
  rd_kafka_destroy(rk);
  return problem;
}

} // namespace

caf::actor spawn_dead_letter_queue(caf::actor_system& sys, dead_letter_settings settings) {
  return sys.spawn<caf::detached>([settings](caf::event_based_actor*) -> caf::behavior {
    auto p = std::make_shared<producer>();
    std::string create_error = create(*p, settings);
    if (!create_error.empty()) LOG_ERROR("dlq", "cannot create the dead-letter producer: " << create_error);
    return {
        [p, settings, create_error](dlq_atom, const std::vector<dead_letter>& letters) -> std::string {
          if (!create_error.empty()) return "no dead-letter producer: " + create_error;
          return produce_letters(*p, settings, letters);
        },
        [p, settings, create_error](rejected_atom, const std::vector<rejected_record>& rows) -> std::string {
          if (!create_error.empty()) return "no dead-letter producer: " + create_error;
          std::vector<dead_letter> letters;
          auto problem = reread(settings, rows, letters);
          if (!problem.empty()) return problem;
          return produce_letters(*p, settings, letters);
        },
    };
  });
}

} // namespace starpipe::sinks
