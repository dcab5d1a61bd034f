#include "common/kafka_client.h"

namespace starpipe {

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
  if (configure) configure(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    error = errstr;
  }
  return rk; // owns conf on success
}

} // namespace starpipe
