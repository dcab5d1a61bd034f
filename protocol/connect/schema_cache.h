#pragma once
// Compiled schemas by identity, so a stream whose records share a schema compiles it once:
// Kafka Connect's JsonConverter keeps the same kind of cache, bounded by `schemas.cache.size`
// and evicting the least recently used. A schema is known by the bytes a record carried it in
// (a JsonConverter envelope's "schema" member), or by its structure when a transform built it.
// One cache belongs to one record stage: no locking.
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/connect/schema_plan.h"

namespace starpipe::connect {

struct compiled_schema {
  nlohmann::ordered_json schema;
  std::shared_ptr<const schema_plan> plan;
};

class schema_cache {
public:
  // capacity 0: nothing is kept (every lookup compiles), as a JsonConverter cache of size 0.
  explicit schema_cache(size_t capacity) : capacity_(capacity) {}

  // The schema a record carried as text (JSON). Null when the text is not JSON; the caller
  // then reads the record the slow way and reports its error.
  std::shared_ptr<const compiled_schema> by_text(std::string_view text);
  // The plan of a schema held as a value (a transform's output schema).
  std::shared_ptr<const schema_plan> by_value(const nlohmann::ordered_json& schema);

  struct counters {
    uint64_t hits = 0, misses = 0, evictions = 0;
  };
  const counters& stats() const { return stats_; }
  size_t size() const { return lru_.size(); }

private:
  struct slot {
    std::string text;   // by_text: the key
    size_t hash = 0;    // by_value: the key's hash (the schema itself decides equality)
    bool by_text = false;
    std::shared_ptr<const compiled_schema> compiled;
  };
  using lru_list = std::list<slot>;
  void touch(lru_list::iterator it);
  void insert(slot s);

  size_t capacity_;
  lru_list lru_; // most recently used first
  std::unordered_map<std::string_view, lru_list::iterator> texts_;
  std::unordered_multimap<size_t, lru_list::iterator> values_;
  counters stats_;
};

} // namespace starpipe::connect
