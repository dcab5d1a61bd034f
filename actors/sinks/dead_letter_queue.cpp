#include "actors/sinks/dead_letter_queue.h"

#include <librdkafka/rdkafka.h>

#include <atomic>

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

} // namespace

caf::actor spawn_dead_letter_queue(caf::actor_system& sys, dead_letter_settings settings) {
  return sys.spawn<caf::detached>([settings](caf::event_based_actor*) -> caf::behavior {
    auto p = std::make_shared<producer>();
    std::string create_error = create(*p, settings);
    if (!create_error.empty()) LOG_ERROR("dlq", "cannot create the dead-letter producer: " << create_error);
    return {
        [p, settings, create_error](dlq_atom, const std::vector<dead_letter>& letters) -> std::string {
          if (!create_error.empty()) return "no dead-letter producer: " + create_error;
          p->failures = 0;
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
              add("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException");
              add("__connect.errors.exception.message", d.reason);
              add("__connect.errors.exception.stacktrace", "org.apache.kafka.connect.errors.DataException: " + d.reason);
            }
            // The original bytes, unchanged; a null key or value stays null.
            void* key = d.key ? const_cast<char*>(d.key->data()) : nullptr;
            size_t key_len = d.key ? d.key->size() : 0;
            void* value = d.value ? const_cast<char*>(d.value->data()) : nullptr;
            size_t value_len = d.value ? d.value->size() : 0;
            auto err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(settings.topic.c_str()), RD_KAFKA_V_KEY(key, key_len),
                                         RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
            if (err) {
              rd_kafka_headers_destroy(hdrs);
              return std::string("producing to ") + settings.topic + ": " + rd_kafka_err2str(err);
            }
          }
          // Blocking here is fine: this actor has its own thread. The batch's offsets wait for it.
          auto err = rd_kafka_flush(p->rk, 60000);
          if (err) return std::string("dead-letter records not acknowledged: ") + rd_kafka_err2str(err);
          if (p->failures > 0) return "dead-letter records failed: " + p->last_error;
          LOG_INFO("dlq", letters.size() << " record(s) sent to dead-letter topic " << settings.topic);
          return std::string();
        },
    };
  });
}

} // namespace starpipe::sinks
