#include "pipelines/connector_pipeline.h"

#include "actors/checkpoint/supervisor.h"

namespace starpipe::pipelines {

caf::actor start_connector(caf::actor_system& sys, std::shared_ptr<const conf::connector_config> connector,
                           std::shared_ptr<const conf::worker_config> worker, std::shared_ptr<connector_registry> registry) {
  checkpoint::supervisor_settings s;
  s.registry = std::move(registry);
  s.connector = std::move(connector);
  s.worker = std::move(worker);
  return checkpoint::spawn_supervisor(sys, s);
}

std::string describe(const conf::connector_config& c) {
  std::string topics;
  if (c.topics_regex)
    topics = "topics.regex=" + *c.topics_regex;
  else
    for (const auto& t : c.topics) topics += (topics.empty() ? "topics=" : ",") + t;
  std::string out = "connector " + c.name + ": " + topics + " -> " + c.database + " at ";
  for (size_t i = 0; i < c.fe_urls.size(); ++i) out += (i ? "," : "") + c.fe_urls[i];
  out += " as " + c.username + " (password hidden), format " + c.load_properties.at("format") +
         ", bufferflush.maxbytes=" + std::to_string(c.buffer_max_bytes) +
         ", bufferflush.intervalms=" + std::to_string(c.buffer_interval_ms) +
         ", sink.maxretries=" + std::to_string(c.max_retries);
  for (const auto& [topic, table] : c.topic2table) out += ", " + topic + "->" + table;
  return out;
}

} // namespace starpipe::pipelines
