#include "protocol/exactly_once/checkpoint_record.h"
#include "protocol/connect/json_scan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace starpipe::stream_load {

std::vector<std::string> checkpoint_record::slots() const {
  std::vector<std::string> out;
  if (!owner.empty()) out.push_back(owner);
  for (const auto& l : txns)
    if (!l.slot.empty() && std::find(out.begin(), out.end(), l.slot) == out.end()) out.push_back(l.slot);
  return out;
}

std::string encode_checkpoint_record(const checkpoint_record& r) {
  nlohmann::json txns = nlohmann::json::array();
  for (const auto& l : r.txns) txns.push_back({{"t", l.table}, {"l", l.label}, {"s", l.slot}, {"n", l.sequence}});
  return nlohmann::json{{"starpipe.eo", 1}, {"o", r.owner}, {"txns", txns}}.dump();
}

checkpoint_record decode_checkpoint_record(const std::string& metadata) {
  checkpoint_record out;
  if (metadata.empty() || metadata.front() != '{' || connect::nested_deeper_than(metadata)) return out;
  auto j = nlohmann::json::parse(metadata, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("starpipe.eo")) return out;
  if (j.contains("o") && j["o"].is_string()) out.owner = j["o"].get<std::string>();
  if (!j.contains("txns") || !j["txns"].is_array()) return out;
  for (const auto& t : j["txns"]) {
    if (!t.is_object() || !t.value("l", nlohmann::json()).is_string()) continue;
    prepared_label p;
    p.table = t.value("t", "");
    p.label = t.value("l", "");
    p.slot = t.value("s", "");
    p.sequence = t.value("n", uint64_t{0});
    out.txns.push_back(std::move(p));
  }
  return out;
}

std::string writer_slot(const std::string& worker_id, int task, const std::string& token) {
  uint32_t h = 2166136261u; // FNV-1a
  for (unsigned char c : worker_id) h = (h ^ c) * 16777619u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "w%08xt%d", h, task);
  return buf + ("r" + token);
}

} // namespace starpipe::stream_load
