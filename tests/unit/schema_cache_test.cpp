// Compiled schemas by identity (schema_cache) and the converters that use them: a stream whose
// records share a schema compiles it once, the bound (schemas.cache.size) holds with the least
// recently used evicted first, and the cached path gives exactly what reading each record's
// schema afresh gives, rows and errors alike.
#include <doctest/doctest.h>

#include "tests/unit/fixture_text.h"


#include "conf/connector_config.h"
#include "conf/properties.h"
#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/connect/schema_plan.h"

using namespace starpipe;
using connect::json;

namespace {

using testing::fixture_text;

const char* const row_schema =
    R"({"type":"struct","fields":[{"field":"id","type":"int32"},{"field":"d","type":"int32","optional":true,)"
    R"("name":"org.apache.kafka.connect.data.Date"}]})";

std::string envelope(const std::string& schema, const std::string& payload) {
  return R"({"schema":)" + schema + R"(,"payload":)" + payload + "}";
}

// The same envelope with its keys spelled with an escape: equal JSON, but not the plain form
// the cached path reads, so it takes the general path.
std::string escaped_envelope(const std::string& schema, const std::string& payload) {
  return R"({"sch\u0065ma":)" + schema + R"(,"p\u0061yload":)" + payload + "}";
}

conf::converter_spec enveloped(int64_t cache_size = 1000) {
  conf::converter_spec s;
  s.kind = conf::converter_kind::json;
  s.schemas_enable = true;
  s.schemas_cache_size = cache_size;
  return s;
}

// Decodes both spellings of one envelope with one converter; they must agree in everything.
// Returns the cached spelling's decoding.
std::optional<connect::schema_and_value> decode_both(connect::converter& decoder, const std::string& plain,
                                                     const std::string& escaped, bool& ok) {
  std::optional<connect::schema_and_value> d1, d2;
  std::string e1, e2;
  ok = decoder.to_connect(plain.data(), plain.size(), d1, e1);
  bool ok2 = decoder.to_connect(escaped.data(), escaped.size(), d2, e2);
  CHECK(ok == ok2);
  CHECK(e1 == e2);
  REQUIRE(d1.has_value() == d2.has_value());
  if (d1) {
    CHECK(d1->schema == d2->schema);
    CHECK(d1->value == d2->value);
  }
  return d1;
}

} // namespace

TEST_CASE("schema cache: one compile per distinct schema text, hits after") {
  connect::schema_cache cache(10);
  auto first = cache.by_text(row_schema);
  REQUIRE(first);
  for (int i = 0; i < 99; ++i) CHECK(cache.by_text(row_schema) == first); // the same compiled plan
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().hits == 99);
  auto other = cache.by_text(R"({"type":"struct","fields":[]})");
  CHECK(other != first);
  CHECK(cache.stats().misses == 2);
  CHECK(cache.size() == 2);
  CHECK(cache.by_text("{not json") == nullptr); // the caller reads such a record the general way
  CHECK(cache.size() == 2);
}

TEST_CASE("schema cache: bounded, the least recently used goes first; size 0 keeps nothing") {
  connect::schema_cache cache(2);
  const std::string a = R"({"type":"int32"})", b = R"({"type":"int64"})", c = R"({"type":"string"})";
  auto pa = cache.by_text(a);
  cache.by_text(b);
  CHECK(cache.by_text(a) == pa); // a is now the most recent: b goes when c comes
  cache.by_text(c);
  CHECK(cache.size() == 2);
  CHECK(cache.stats().evictions == 1);
  CHECK(cache.by_text(a) == pa);
  const auto misses = cache.stats().misses;
  cache.by_text(b); // evicted: compiled again
  CHECK(cache.stats().misses == misses + 1);

  connect::schema_cache none(0);
  auto p1 = none.by_text(a), p2 = none.by_text(a);
  REQUIRE(p1);
  REQUIRE(p2);
  CHECK(p1 != p2);
  CHECK(none.size() == 0);
  CHECK(none.stats().hits == 0);
}

TEST_CASE("schema cache: schemas built by a transform are known by their structure") {
  connect::schema_cache cache(10);
  json s1 = json::parse(row_schema), s2 = json::parse(row_schema);
  auto p = cache.by_value(s1);
  CHECK(cache.by_value(s2) == p); // another tree, the same schema
  s2["fields"][0]["type"] = "int64";
  CHECK(cache.by_value(s2) != p);
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().misses == 2);
}

TEST_CASE("JsonConverter reads a stream's shared schema once, and rows come out as without the cache") {
  const connect::record_converter rows(enveloped(), conf::load_format::json);
  std::string out, error;
  for (int i = 0; i < 50; ++i) {
    std::string v = envelope(row_schema, R"({"id":)" + std::to_string(i) + R"(,"d":19000})");
    REQUIRE(rows.convert(v.data(), v.size(), out, error) == connect::convert_status::row);
  }
  REQUIRE(rows.schemas());
  CHECK(rows.schemas()->stats().misses == 1);
  CHECK(rows.schemas()->stats().hits == 49);
  CHECK(out.rfind(R"({"id":49,"d":"2022-01-08"})") == out.size() - std::string(R"({"id":49,"d":"2022-01-08"})").size());

  // The general path (escaped keys) gives the same row.
  std::string general;
  std::string v = escaped_envelope(row_schema, R"({"id":49,"d":19000})");
  REQUIRE(rows.convert(v.data(), v.size(), general, error) == connect::convert_status::row);
  CHECK(general == R"({"id":49,"d":"2022-01-08"})");
}

TEST_CASE("JsonConverter with a cache: the same records, errors and nulls as the general reading") {
  // Every case through both paths: the cached (plain keys) and the general (escaped keys).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {row_schema, R"({"id":1,"d":null})"},
      {row_schema, R"({"id":null})"},                 // required field null
      {row_schema, R"({"id":"x"})"},                  // wrong type
      {row_schema, R"([1])"},                         // not a struct
      {row_schema, "null"},                           // no value
      {R"({"type":"int32","optional":"yes"})", "3"},  // a malformed schema
      {R"({"type":"weird"})", "1"},                   // unknown type: refused when rendered
      {"null", R"({"a":{"b":1}})"},                   // schemaless inside an envelope
      {R"({"type":"string"})", R"("text")"},          // not an object: no row
      {row_schema, "1e999"},                          // payload JSON cannot hold
      {R"({"type":"int64","default":1e999})", "null"} // schema JSON cannot hold
  };
  for (const auto& [schema, payload] : cases) {
    CAPTURE(schema);
    CAPTURE(payload);
    const connect::record_converter rows(enveloped(), conf::load_format::json);
    auto decoder = connect::make_converter(enveloped());
    std::string plain = envelope(schema, payload), escaped = escaped_envelope(schema, payload);

    std::string out1, out2, err1, err2;
    auto s1 = rows.convert(plain.data(), plain.size(), out1, err1);
    auto s2 = rows.convert(escaped.data(), escaped.size(), out2, err2);
    CHECK(s1 == s2);
    CHECK(out1 == out2);
    CHECK(err1 == err2);

    bool ok = false;
    decode_both(*decoder, plain, escaped, ok);
  }
}

TEST_CASE("JsonConverter with a cache: real Debezium events decode as without one") {
  // postgres-update.json is Debezium's documented example, whose "before" lacks required
  // fields: JsonConverter refuses it, and must refuse it the same way through the cache.
  for (std::string name : {"postgres-update.json", "postgres-create.json", "mysql-temporal-create.json",
                           "mysql-decimal-create.json", "mysql-delete.json"}) {
    CAPTURE(name);
    auto doc = json::parse(fixture_text(name));
    const std::string plain = envelope(doc["schema"].dump(), doc["payload"].dump());
    const std::string escaped = escaped_envelope(doc["schema"].dump(), doc["payload"].dump());
    auto decoder = connect::make_converter(enveloped());
    bool ok = false;
    auto decoded = decode_both(*decoder, plain, escaped, ok);
    CHECK(ok == (name != "postgres-update.json"));
    if (decoded) CHECK(decoded->schema == doc["schema"]);
  }
}

TEST_CASE("schemas.cache.size is read per converter, the worker's inherited, range-checked once") {
  auto connector = [](const std::string& text, const conf::worker_config& worker = conf::worker_config{}) {
    auto p = conf::parse_properties("name=c\nconnector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\n"
                                    "topics=t\nstarrocks.http.url=127.0.0.1:8030\nstarrocks.database.name=db\n"
                                    "starrocks.username=root\nstarrocks.password=\n" +
                                        text,
                                    "c.properties");
    return conf::parse_connector_config(p, worker);
  };
  CHECK(connector("").value_converter.schemas_cache_size == 1000);
  CHECK(connector("value.converter.schemas.cache.size=7\n").value_converter.schemas_cache_size == 7);
  CHECK(connector("value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                  "value.converter.schemas.cache.size=0\n")
            .value_converter.schemas_cache_size == 0);
  auto worker = conf::parse_worker_config(
      conf::parse_properties("bootstrap.servers=127.0.0.1:9092\nvalue.converter.schemas.cache.size=5\n", "w.properties"));
  CHECK(worker.value_converter.schemas_cache_size == 5);
  CHECK(connector("", worker).value_converter.schemas_cache_size == 5); // inherited with the converter
  CHECK(connector("value.converter=org.apache.kafka.connect.json.JsonConverter\n", worker)
            .value_converter.schemas_cache_size == 1000); // a converter of its own starts from the defaults
  try {
    connector("value.converter.schemas.cache.size=-1\n");
    FAIL("a negative cache size was accepted");
  } catch (const conf::config_exception& e) {
    std::string text = e.what();
    CHECK(text.find("value.converter.schemas.cache.size") != std::string::npos);
    CHECK(text.find("value.converter.schemas.cache.size") == text.rfind("value.converter.schemas.cache.size"));
  }
}
