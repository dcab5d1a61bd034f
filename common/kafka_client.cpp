#include "common/kafka_client.h"

#include "common/log.h"

namespace starpipe {

namespace {
// librdkafka's own lines (syslog levels) through starpipe's logger, in its format and under
// its level, instead of raw "%3|...|FAIL|..." lines on stderr beside it.
void log_line(const rd_kafka_t* rk, int severity, const char* facility, const char* text) {
  using starpipe::log::level;
  const auto l = severity <= 3 ? level::error : severity == 4 ? level::warn : severity <= 6 ? level::info : level::debug;
  SP_LOG(l, "kafka", rd_kafka_name(rk) << " " << facility << ": " << text);
}
} // namespace

rd_kafka_t* new_kafka_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
                             std::string& error, const std::function<void(rd_kafka_conf_t*)>& configure) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      error = k + ": " + errstr;
      return nullptr;
    }
  rd_kafka_conf_set_log_cb(conf, log_line);
  if (configure) configure(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    error = errstr;
  }
  return rk; // owns conf on success
}

} // namespace starpipe
