#include "common/connector_registry.h"

namespace starpipe::pipelines {

void connector_registry::put(connector_view v) {
  std::lock_guard<std::mutex> g(mutex_);
  connectors_[v.name] = std::move(v);
}

std::optional<connector_view> connector_registry::get(const std::string& name) const {
  std::lock_guard<std::mutex> g(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return std::nullopt;
  return it->second;
}

std::vector<connector_view> connector_registry::all() const {
  std::lock_guard<std::mutex> g(mutex_);
  std::vector<connector_view> out;
  for (const auto& [k, v] : connectors_) out.push_back(v);
  return out;
}

void connector_registry::remove(const std::string& name) {
  std::lock_guard<std::mutex> g(mutex_);
  connectors_.erase(name);
}

void connector_registry::replace_all(std::vector<connector_view> views) {
  std::map<std::string, connector_view> next;
  for (auto& v : views) next[v.name] = std::move(v);
  std::lock_guard<std::mutex> g(mutex_);
  connectors_.swap(next);
}

} // namespace starpipe::pipelines
