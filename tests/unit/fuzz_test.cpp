// Seeded fuzzing of the inputs strangers control: REST requests, .properties text and record
// bytes. Many thousands of generated and mutated inputs, bounded in time; each must give an
// answer or an error, never a crash, a hang or an exception out of the API. The seed is
// printed, and STARPIPE_FUZZ_SEED replays a run.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "conf/properties.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/record.h"
#include "protocol/kafka/topic_pattern.h"
#include "protocol/rest/connect_api.h"
#include "protocol/stream_load/load_response.h"
#include "tests/unit/recording_admin.h"

using namespace starpipe;

namespace {

uint64_t fuzz_seed() {
  if (const char* s = std::getenv("STARPIPE_FUZZ_SEED")) return std::strtoull(s, nullptr, 10);
  static const uint64_t seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return seed;
}

class generator {
public:
  explicit generator(uint64_t seed) : rng_(seed) {}
  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
  std::string bytes(size_t max) {
    std::string s(below(max + 1), '\0');
    for (auto& c : s) c = static_cast<char>(below(256));
    return s;
  }
  const std::string& pick(const std::vector<std::string>& v) { return v[below(v.size())]; }

  // JSON-looking text: valid documents, with some truncated, nested deep or corrupted.
  std::string json_text(int depth = 0) {
    static const std::vector<std::string> scalars = {"0", "-1", "1e308", "1e999", "3.14", "true", "false", "null",
                                                     "\"\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"x\\\"y\"",
                                                     "\"\xff\xfe\"", "\"caf\xc3\xa9\"", "12345678901234567890123"};
    if (depth > 6 || chance(30)) return pick(scalars);
    std::string out;
    if (chance(50)) {
      out = "{";
      for (size_t i = 0, n = below(5); i < n; ++i)
        out += (i ? "," : "") + pick({"\"id\"", "\"schema\"", "\"payload\"", "\"type\"", "\"fields\"", "\"field\"",
                                      "\"name\"", "\"optional\"", "\"items\"", "\"values\"", "\"config\"",
                                      "\"before\"", "\"after\"", "\"op\"", "\"Status\""}) +
               ":" + json_text(depth + 1);
      out += "}";
    } else {
      out = "[";
      for (size_t i = 0, n = below(5); i < n; ++i) out += (i ? "," : "") + json_text(depth + 1);
      out += "]";
    }
    return out;
  }
  std::string mutate(std::string s) {
    for (size_t i = 0, n = 1 + below(4); i < n && !s.empty(); ++i) {
      switch (below(5)) {
        case 0: s.erase(below(s.size()), 1 + below(8)); break;
        case 1: {
          static const std::string specials("{}[]\",:\\\x00\xff", 10);
          s.insert(below(s.size()), 1, specials[below(specials.size())]);
          break;
        }
        case 2: s[below(s.size())] = static_cast<char>(below(256)); break;
        case 3: s = s.substr(0, below(s.size())); break;
        case 4: s.insert(below(s.size()), std::string(1 + below(2000), chance(50) ? '[' : '{')); break;
      }
    }
    return s;
  }

private:
  std::mt19937_64 rng_;
};

// Runs `body` for `iterations` rounds or until `budget` passes, whichever comes first.
template <class F>
size_t for_a_while(size_t iterations, std::chrono::seconds budget, F&& body) {
  const auto until = std::chrono::steady_clock::now() + budget;
  size_t done = 0;
  for (; done < iterations && std::chrono::steady_clock::now() < until; ++done) body(done);
  return done;
}

} // namespace

TEST_CASE("fuzz: the REST request handler answers every request with a status") {
  const uint64_t seed = fuzz_seed();
  MESSAGE("fuzz seed " << seed << " (STARPIPE_FUZZ_SEED replays it)");
  generator g(seed);
  pipelines::connector_registry registry;
  pipelines::connector_view v;
  v.name = "sr-sink";
  v.state = "RUNNING";
  v.tasks.push_back({});
  registry.put(v);
  recording_admin admin;
  conf::worker_config worker;
  const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "PRI", ""};
  const std::vector<std::string> segments = {"connectors", "sr-sink", "status", "config", "tasks", "0", "restart",
                                             "pause", "resume", "stop", "offsets", "topics", "reset", "connector-plugins",
                                             "validate", "metrics", "health", "%00", "%ff", "%2F", "..", "", "a%zz",
                                             "StarRocksSinkConnector", "-1", "99999999999999999999"};
  size_t n = for_a_while(20000, std::chrono::seconds(20), [&](size_t i) {
    rest::request r;
    r.method = g.pick(methods);
    for (size_t k = 0, parts = g.below(6); k < parts; ++k) r.target += "/" + g.pick(segments);
    if (g.chance(20)) r.target += "?expand=" + g.pick({"status", "info", "", "%"}) + (g.chance(50) ? "&includeTasks=true" : "");
    if (g.chance(10)) r.target = g.bytes(64);
    r.body = g.chance(70) ? g.mutate(g.json_text()) : g.bytes(256);
    if (g.chance(30))
      r.body = "{\"name\":\"" + g.pick({"a", "a\\u0000b", "x/y", "\xff"}) + "\",\"config\":" + g.mutate(g.json_text()) + "}";
    rest::api_context ctx{&registry, &registry, i % 2 ? &admin : nullptr, "127.0.0.1:8083", "0", &worker};
    rest::response res;
    REQUIRE_NOTHROW(res = rest::handle(r, ctx));
    CHECK_MESSAGE((res.status >= 200 && res.status < 600), r.method << " " << r.target << " -> " << res.status);
  });
  MESSAGE(n << " requests");
  CHECK(n >= 1000);
}

TEST_CASE("fuzz: the .properties parser and the topic pattern take any text") {
  generator g(fuzz_seed() + 1);
  const std::vector<std::string> pieces = {"key=value", "a:b", "c d", "\\", "\\\n", "\\u12", "\\uZZZZ", "#c", "!c",
                                           "=", ":", " ", "\t", "\r\n", "\n", "\xef\xbb\xbf", "\\d", "topics.regex="};
  size_t n = for_a_while(20000, std::chrono::seconds(10), [&](size_t) {
    std::string text;
    for (size_t k = 0, parts = g.below(12); k < parts; ++k) text += g.chance(80) ? g.pick(pieces) : g.bytes(8);
    conf::properties p;
    REQUIRE_NOTHROW(p = conf::parse_properties(text, "fuzz"));
    for (const auto& e : p.entries()) CHECK(p.has(e.key));
    std::string error;
    REQUIRE_NOTHROW(kafka::topic_pattern::compile(g.mutate(text + "(a|b)*[x-z]+"), error));
  });
  CHECK(n >= 1000);
}

TEST_CASE("fuzz: the record decoders convert or refuse any bytes") {
  generator g(fuzz_seed() + 2);
  conf::converter_spec plain, enveloped;
  plain.kind = enveloped.kind = conf::converter_kind::json;
  enveloped.schemas_enable = true;
  const connect::record_converter plain_rows(plain, conf::load_format::json);
  const connect::record_converter envelope_rows(enveloped, conf::load_format::json);
  size_t n = for_a_while(30000, std::chrono::seconds(20), [&](size_t) {
    std::string value = g.chance(80) ? g.mutate(g.json_text()) : g.bytes(512);
    if (g.chance(40))
      value = "{\"schema\":" + g.mutate(g.json_text()) + ",\"payload\":" + g.mutate(g.json_text()) + "}";
    std::string out, error;
    REQUIRE_NOTHROW(plain_rows.convert(value.data(), value.size(), out, error));
    REQUIRE_NOTHROW(envelope_rows.convert(value.data(), value.size(), out, error));
    std::optional<connect::schema_and_value> decoded;
    bool ok = false;
    REQUIRE_NOTHROW(ok = connect::decode(enveloped, value.data(), value.size(), decoded, error));
    if (ok && decoded) {
      connect::connect_record r;
      r.value = decoded;
      REQUIRE_NOTHROW(connect::render_row(r, {}, error));
    }
    REQUIRE_NOTHROW(stream_load::parse_load_response(value));
    REQUIRE_NOTHROW(stream_load::parse_label_state(value));
  });
  CHECK(n >= 1000);
}

// The cached reading of envelopes (schema found by its bytes, plan compiled once) against the
// general one (the same envelope with escaped keys, which the cached path does not take): the
// same status, row and error for any schema and payload text, including ones that repeat.
TEST_CASE("fuzz: an envelope read through the schema cache converts as read afresh") {
  generator g(fuzz_seed() + 3);
  conf::converter_spec enveloped;
  enveloped.kind = conf::converter_kind::json;
  enveloped.schemas_enable = true;
  const connect::record_converter rows(enveloped, conf::load_format::json);
  std::vector<std::string> schemas;
  size_t n = for_a_while(20000, std::chrono::seconds(10), [&](size_t) {
    // Reuse earlier schemas often, so that lookups hit as well as miss.
    if (schemas.empty() || g.chance(30)) schemas.push_back(g.chance(70) ? g.json_text() : g.mutate(g.json_text()));
    const std::string& schema = schemas[g.below(schemas.size())];
    std::string payload = g.chance(70) ? g.json_text() : g.mutate(g.json_text());
    std::string plain = "{\"schema\":" + schema + ",\"payload\":" + payload + "}";
    std::string general = "{\"sch\\u0065ma\":" + schema + ",\"payload\":" + payload + "}";
    std::string out1, out2, err1, err2;
    auto s1 = rows.convert(plain.data(), plain.size(), out1, err1);
    auto s2 = rows.convert(general.data(), general.size(), out2, err2);
    REQUIRE(s1 == s2);
    REQUIRE(out1 == out2);
    REQUIRE(err1 == err2);
  });
  CHECK(n >= 1000);
}
