#include "protocol/connect/schema_cache.h"

#include "protocol/connect/json_scan.h"

namespace starpipe::connect {

using json = nlohmann::ordered_json;

void schema_cache::touch(lru_list::iterator it) { lru_.splice(lru_.begin(), lru_, it); }

void schema_cache::insert(slot s) {
  if (capacity_ == 0) return;
  while (lru_.size() >= capacity_) {
    auto last = std::prev(lru_.end());
    if (last->by_text) {
      texts_.erase(std::string_view(last->text));
    } else {
      auto [from, to] = values_.equal_range(last->hash);
      for (auto it = from; it != to; ++it)
        if (it->second == last) {
          values_.erase(it);
          break;
        }
    }
    lru_.erase(last);
    ++stats_.evictions;
  }
  lru_.push_front(std::move(s));
  auto it = lru_.begin();
  if (it->by_text) texts_.emplace(std::string_view(it->text), it);
  else values_.emplace(it->hash, it);
}

std::shared_ptr<const compiled_schema> schema_cache::by_text(std::string_view text) {
  auto found = texts_.find(text);
  if (found != texts_.end()) {
    ++stats_.hits;
    touch(found->second);
    return found->second->compiled;
  }
  ++stats_.misses;
  if (nested_deeper_than(text)) return nullptr;
  auto schema = json::parse(text.begin(), text.end(), nullptr, false);
  if (schema.is_discarded()) return nullptr;
  auto compiled = std::make_shared<compiled_schema>();
  compiled->plan = schema_plan::compile(schema);
  compiled->schema = std::move(schema);
  slot s;
  s.text = std::string(text);
  s.by_text = true;
  s.compiled = compiled;
  insert(std::move(s));
  return compiled;
}

std::shared_ptr<const schema_plan> schema_cache::by_value(const json& schema) {
  const size_t hash = std::hash<json>{}(schema);
  auto [from, to] = values_.equal_range(hash);
  for (auto it = from; it != to; ++it)
    if (it->second->compiled->schema == schema) {
      ++stats_.hits;
      auto plan = it->second->compiled->plan;
      touch(it->second);
      return plan;
    }
  ++stats_.misses;
  auto compiled = std::make_shared<compiled_schema>();
  compiled->schema = schema;
  compiled->plan = schema_plan::compile(schema);
  slot s;
  s.hash = hash;
  s.compiled = compiled;
  insert(std::move(s));
  return compiled->plan;
}

} // namespace starpipe::connect
