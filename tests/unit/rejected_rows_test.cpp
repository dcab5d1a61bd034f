#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "protocol/stream_load/rejected_rows.h"

using namespace starpipe::stream_load;
using starpipe::conf::load_format;

namespace {

std::string text_of(const std::string& body, const row_span& s) { return body.substr(s.begin, s.size); }

// A StarRocks that rejects the rows in `bad` (max_filter_ratio 0): a load holding any of them
// is refused and loads nothing; its error log quotes its rejected rows (re-printed), unless
// `quote` says not to, as a log cut short would.
struct fake_starrocks {
  std::set<size_t> bad;
  bool quote = true;
  bool count = true; // V1 answers say how many rows were filtered; V2 refusals do not
  std::multiset<size_t> loaded;

  bool load(const std::vector<size_t>& rows) {
    for (size_t r : rows)
      if (bad.count(r)) return false;
    loaded.insert(rows.begin(), rows.end());
    return true;
  }
};

// Drives a search to its end against `sr`, as the writer does; returns the loads made.
size_t run(rejection_search& search, fake_starrocks& sr, const std::string& body, const std::vector<row_span>& spans) {
  size_t loads = 0;
  bool first = true;
  while (!search.done()) {
    const auto rows = search.current();
    ++loads;
    if (!first && sr.load(rows)) {
      search.loaded();
      continue;
    }
    first = false; // the refused load itself
    std::string log;
    int64_t filtered = 0;
    for (size_t r : rows) {
      if (!sr.bad.count(r)) continue;
      ++filtered;
      if (sr.quote) {
        auto reprinted = nlohmann::json::parse(text_of(body, spans[r])).dump(1);
        std::replace(reprinted.begin(), reprinted.end(), '\n', ' ');
        log += "Error: Value length is beyond the capacity. column=name. Row: " + reprinted + "\n";
      }
    }
    auto quoted = match_error_log(log, body, spans, rows, load_format::json);
    search.refused(quoted, sr.count ? std::optional<int64_t>(filtered) : std::nullopt, "too many filtered rows");
  }
  return loads;
}

// `bad` distinct rejected rows of n; log quotes and counts on or off at random.
fake_starrocks random_starrocks(std::mt19937& rng, size_t n, size_t bad) {
  fake_starrocks sr;
  while (sr.bad.size() < std::min(bad, n)) sr.bad.insert(rng() % n);
  sr.quote = rng() % 2;
  sr.count = rng() % 2;
  return sr;
}

std::string json_body(size_t n) {
  std::string body = "[";
  for (size_t i = 0; i < n; ++i)
    body += (i ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"name\":\"n,]\\\"" + std::to_string(i) +
            "\",\"tags\":[1,{\"a\":\"}\"}]}";
  return body + "]";
}

} // namespace

TEST_CASE("split_body: JSON elements, with brackets, commas and quotes inside strings") {
  std::string body = json_body(3);
  auto spans = split_body(body, load_format::json, "\n");
  REQUIRE(spans.size() == 3);
  CHECK(text_of(body, spans[1]) == "{\"id\":1,\"name\":\"n,]\\\"1\",\"tags\":[1,{\"a\":\"}\"}]}");
  CHECK(body_of(body, spans, {0, 1, 2}, load_format::json, "\n") == body);
  CHECK(body_of(body, spans, {2}, load_format::json, "\n") == "[" + text_of(body, spans[2]) + "]");
  CHECK(split_body("[]", load_format::json, "\n").empty());
  CHECK(split_body("[{\"a\":1}", load_format::json, "\n").empty()); // not framed
  CHECK(split_body("[{\"a\":\"1}]", load_format::json, "\n").empty());
}

TEST_CASE("split_body: CSV rows each end with the delimiter") {
  std::string body = "1,a\x02" "2,b\x02";
  auto spans = split_body(body, load_format::csv, "\x02");
  REQUIRE(spans.size() == 2);
  CHECK(text_of(body, spans[1]) == "2,b");
  CHECK(body_of(body, spans, {1}, load_format::csv, "\x02") == "2,b\x02");
  CHECK(split_body("1,a\x02" "2,b", load_format::csv, "\x02").empty());
}

TEST_CASE("match_error_log: a re-printed JSON row matches its row; a cut one, or another, does not") {
  std::string body = R"([{"id":1,"name":"x"},{"id":2,"name":"y"},{"id":2,"name":"y"}])";
  auto spans = split_body(body, load_format::json, "\n");
  std::string log = "Error: NULL value in non-nullable column 'name'. Row: {\"name\": \"y\", \"id\": 2}\n"
                    "Error: too long. Row: {\"id\":1,\"na...\n"
                    "Error: other. Row: {\"id\":7}\n";
  auto m = match_error_log(log, body, spans, {0, 1, 2}, load_format::json);
  REQUIRE(m.size() == 1); // one quote claims one of the two equal rows
  CHECK(m.begin()->first == 1);
  CHECK(m.begin()->second == "NULL value in non-nullable column 'name'");
  CHECK(match_error_log(log, body, spans, {0}, load_format::json).empty()); // only candidates
  std::string csv = "1,a\n2,b\n";
  auto cs = split_body(csv, load_format::csv, "\n");
  auto mc = match_error_log("Error: actual column number is less than schema column number. Row: 2,b", csv, cs,
                            {0, 1}, load_format::csv);
  REQUIRE(mc.size() == 1);
  CHECK(mc.begin()->first == 1);
}

TEST_CASE("rejection_search: one rejected row among 999 without a usable log: found by halving") {
  std::string body = json_body(999);
  auto spans = split_body(body, load_format::json, "\n");
  fake_starrocks sr;
  sr.bad = {500};
  sr.quote = false;
  rejection_search search(999, false);
  size_t loads = run(search, sr, body, spans);
  REQUIRE(search.rejected().size() == 1);
  CHECK(search.rejected().begin()->first == 500);
  CHECK(search.loaded_rows() == 998);
  CHECK(sr.loaded.size() == 998);
  CHECK(std::set<size_t>(sr.loaded.begin(), sr.loaded.end()).size() == 998); // each good row once
  CHECK(loads <= 2 * 10 + 1);
}

TEST_CASE("rejection_search: with the error log quoting the row, one more load does it") {
  std::string body = json_body(999);
  auto spans = split_body(body, load_format::json, "\n");
  fake_starrocks sr;
  sr.bad = {500};
  rejection_search search(999, false);
  CHECK(run(search, sr, body, spans) == 2);
  CHECK(search.rejected().begin()->second == "Value length is beyond the capacity. column=name");
  CHECK(sr.loaded.size() == 998);
}

TEST_CASE("rejection_search: when StarRocks counts every row rejected, nothing is probed") {
  fake_starrocks sr;
  for (size_t i = 0; i < 64; ++i) sr.bad.insert(i);
  sr.quote = false;
  std::string body = json_body(64);
  auto spans = split_body(body, load_format::json, "\n");
  rejection_search search(64, false);
  CHECK(run(search, sr, body, spans) == 1);
  CHECK(search.rejected().size() == 64);
}

TEST_CASE("rejection_search: random rejected sets, logs or not, counts or not: exactly the bad rows, each good "
          "row loaded once") {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    size_t n = 1 + rng() % 300;
    std::string body = json_body(n);
    auto spans = split_body(body, load_format::json, "\n");
    auto sr = random_starrocks(rng, n, 1 + rng() % std::max<size_t>(1, n / (1 + rng() % 20)));
    rejection_search search(n, false);
    run(search, sr, body, spans);
    std::set<size_t> found;
    for (const auto& [r, why] : search.rejected()) found.insert(r);
    CHECK(found == sr.bad);
    CHECK(sr.loaded.size() == n - sr.bad.size());
    CHECK(std::set<size_t>(sr.loaded.begin(), sr.loaded.end()).size() == sr.loaded.size());
    CHECK(search.loaded_rows() == n - sr.bad.size());
  }
}

TEST_CASE("rejection_search: a batch whose every row is rejected, unquoted and uncounted, gives up after max_probes") {
  size_t n = 5000;
  std::string body = json_body(n);
  auto spans = split_body(body, load_format::json, "\n");
  fake_starrocks sr;
  for (size_t i = 0; i < n; ++i) sr.bad.insert(i);
  sr.quote = false;
  sr.count = false;
  rejection_search search(n, false);
  search.refused({}, std::nullopt, "too many filtered rows"); // the refused load itself
  while (!search.done() && !search.gave_up()) {
    CHECK_FALSE(sr.load(search.current()));
    search.refused({}, std::nullopt, "too many filtered rows");
  }
  CHECK(search.gave_up());
  CHECK(search.probes() == rejection_search::max_probes);
  CHECK(sr.loaded.empty());
  CHECK(!search.rejected().empty()); // what was found so far can be named
}

TEST_CASE("rejection_search first_only (errors.tolerance=none): the first rejected row; nothing after it loads") {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    size_t n = 1 + rng() % 300;
    std::string body = json_body(n);
    auto spans = split_body(body, load_format::json, "\n");
    auto sr = random_starrocks(rng, n, 1 + rng() % 5);
    rejection_search search(n, true);
    run(search, sr, body, spans);
    REQUIRE(!search.rejected().empty());
    CHECK(search.rejected().begin()->first == *sr.bad.begin());
    for (size_t r : sr.loaded) CHECK(r < *sr.bad.begin());
  }
  // With the log quoting every rejected row and the answer counting them, nothing loads.
  std::string body = json_body(100);
  auto spans = split_body(body, load_format::json, "\n");
  fake_starrocks sr;
  sr.bad = {40, 70};
  rejection_search search(100, true);
  CHECK(run(search, sr, body, spans) == 1);
  CHECK(search.rejected().begin()->first == 40);
  CHECK(sr.loaded.empty());
}
