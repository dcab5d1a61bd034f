#include "protocol/connect/schema_fetch.h"

#include <algorithm>

namespace starpipe::connect {

fetch_decision after_fetch(const std::vector<fetched_schema>& answers, int attempt) {
  bool unavailable = std::any_of(answers.begin(), answers.end(), [](const fetched_schema& a) {
    return a.result == fetched_schema::outcome::unavailable;
  });
  if (!unavailable) return {};
  int64_t ms = 100;
  for (int i = 0; i < attempt && ms < 10000; ++i) ms *= 2;
  return {true, std::chrono::milliseconds(std::min<int64_t>(ms, 10000))};
}

} // namespace starpipe::connect
