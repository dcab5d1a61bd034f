#pragma once
// The hook for converters whose records name a schema kept elsewhere (a Schema Registry id in
// each record's first bytes): before a batch is converted, the record stage asks the converter
// which schemas it still lacks, fetches them off the stage's thread through the converter's
// schema_source, and hands each answer to the converter. Fetching blocks; converting never does.
#include <chrono>
#include <string>
#include <vector>

namespace starpipe::connect {

struct fetched_schema {
  enum class outcome { found, missing, unavailable };
  std::string id;
  outcome result = outcome::unavailable;
  std::string text;  // found: the schema as the registry gives it
  std::string error; // missing / unavailable: why, for the record's error or the warning
};

// Where a converter's schemas come from. fetch() blocks (it runs on a detached actor) and
// keeps its own deadline: a registry that does not answer in time is `unavailable`.
class schema_source {
public:
  virtual ~schema_source() = default;
  virtual fetched_schema fetch(const std::string& id) = 0;
};

// What the record stage does after a round of fetches. Any schema unavailable: ask again after
// a backoff that doubles from 100 ms up to 10 s (the records wait, nothing is lost); otherwise
// convert (a missing schema is then the error of the records that name it).
struct fetch_decision {
  bool retry = false;
  std::chrono::milliseconds after{0};
};
fetch_decision after_fetch(const std::vector<fetched_schema>& answers, int attempt);

} // namespace starpipe::connect
