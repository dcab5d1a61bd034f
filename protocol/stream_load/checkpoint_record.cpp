#include "protocol/stream_load/checkpoint_record.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace starpipe::stream_load {

std::string encode_checkpoint_record(const std::vector<prepared_label>& labels) {
  nlohmann::json txns = nlohmann::json::array();
  for (const auto& l : labels) txns.push_back({{"t", l.table}, {"l", l.label}, {"s", l.slot}, {"n", l.sequence}});
  return nlohmann::json{{"starpipe.eo", 1}, {"txns", txns}}.dump();
}

std::vector<prepared_label> decode_checkpoint_record(const std::string& metadata) {
  std::vector<prepared_label> out;
  if (metadata.empty() || metadata.front() != '{') return out;
  auto j = nlohmann::json::parse(metadata, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("starpipe.eo") || !j["txns"].is_array()) return out;
  for (const auto& t : j["txns"]) {
    if (!t.is_object() || !t.value("l", nlohmann::json()).is_string()) continue;
    prepared_label p;
    p.table = t.value("t", "");
    p.label = t.value("l", "");
    p.slot = t.value("s", "");
    p.sequence = t.value("n", uint64_t{0});
    out.push_back(std::move(p));
  }
  return out;
}

std::string writer_slot(const std::string& worker_id, int task) {
  uint32_t h = 2166136261u; // FNV-1a
  for (unsigned char c : worker_id) h = (h ^ c) * 16777619u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "w%08xt%d", h, task);
  return buf;
}

} // namespace starpipe::stream_load
