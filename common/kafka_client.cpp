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

std::optional<std::string> bytes_of(const void* p, size_t n) {
  if (!p) return std::nullopt;
  return std::string(static_cast<const char*>(p), n);
}

std::vector<std::pair<std::string, std::string>> headers_of(const rd_kafka_message_t* m) {
  std::vector<std::pair<std::string, std::string>> out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
    out.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
  return out;
}

} // namespace starpipe
