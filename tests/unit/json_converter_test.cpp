#include <doctest/doctest.h>

#include "protocol/connect/json_converter.h"
#include "protocol/connect/json_scan.h"
#include "protocol/connect/record.h"

using namespace starpipe;
using connect::convert_status;
using json = nlohmann::ordered_json;

namespace {

conf::converter_spec json_spec(bool schemas) {
  conf::converter_spec s;
  s.kind = conf::converter_kind::json;
  s.schemas_enable = schemas;
  return s;
}

std::pair<convert_status, std::string> run(const connect::record_converter& c, const std::string& value,
                                           std::string* error = nullptr) {
  std::string out = "PREFIX", err;
  auto st = c.convert(value.data(), value.size(), out, err);
  if (error) *error = err;
  if (st != convert_status::row) CHECK(out == "PREFIX"); // nothing half-written
  return {st, out.substr(6)};
}

} // namespace

TEST_CASE("converter: schemaless JSON objects pass through byte for byte") {
  connect::record_converter c(json_spec(false), conf::load_format::json);
  auto [st, row] = run(c, "  {\"id\":1,\"city\":\"New York\"}\n");
  CHECK(st == convert_status::row);
  CHECK(row == "{\"id\":1,\"city\":\"New York\"}");
  std::string err;
  CHECK(run(c, "[1,2]", &err).first == convert_status::error);
  CHECK(err.find("not a JSON object") != std::string::npos);
  CHECK(run(c, "{\"id\":1,", &err).first == convert_status::error);
  CHECK(err == "value is not valid JSON");
  CHECK(run(c, "null").first == convert_status::skip);
  std::string out, e;
  CHECK(c.convert(nullptr, 0, out, e) == convert_status::skip); // tombstone
}

TEST_CASE("converter: StringConverter with JSON text is a row; CSV values are rows unchanged") {
  conf::converter_spec s;
  s.kind = conf::converter_kind::string;
  connect::record_converter j(s, conf::load_format::json);
  CHECK(run(j, "{\"a\":1}").second == "{\"a\":1}");
  connect::record_converter c(s, conf::load_format::csv);
  CHECK(run(c, "1\tNew York\n").second == "1\tNew York");
}

TEST_CASE("converter: schemas.enable=true renders the payload through its schema") {
  connect::record_converter c(json_spec(true), conf::load_format::json);
  std::string v = R"({"schema":{"type":"struct","fields":[
      {"type":"int32","optional":false,"field":"id"},
      {"type":"string","optional":true,"field":"city"},
      {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"field":"price"},
      {"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","field":"d"},
      {"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","field":"ts"},
      {"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Time","field":"t"},
      {"type":"string","optional":true,"default":"n/a","field":"note"}],"optional":false,"name":"r"},
    "payload":{"id":7,"city":"Oslo","price":"MDk=","d":19000,"ts":1700000000123,"t":3723004,"note":null}})";
  auto [st, row] = run(c, v);
  REQUIRE(st == convert_status::row);
  auto j = json::parse(row);
  CHECK(j["id"] == 7);
  CHECK(j["city"] == "Oslo");
  CHECK(row.find("\"price\":123.45") != std::string::npos); // 0x3039 = 12345, scale 2: exact digits
  CHECK(j["d"] == "2022-01-08");
  CHECK(j["ts"] == "2023-11-14 22:13:20.123");
  CHECK(j["t"] == "01:02:03.004");
  CHECK(j["note"] == "n/a"); // schema default
  // field order follows the schema
  CHECK(row.find("\"id\"") < row.find("\"city\""));
}

TEST_CASE("converter: envelope errors name the problem") {
  connect::record_converter c(json_spec(true), conf::load_format::json);
  std::string err;
  CHECK(run(c, R"({"id":1})", &err).first == convert_status::error);
  CHECK(err.find("requires \"schema\" and \"payload\"") != std::string::npos);
  CHECK(run(c, R"({"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}]},"payload":{}})",
            &err)
            .first == convert_status::error);
  CHECK(err.find("Invalid null value for required INT32 field") != std::string::npos);
  CHECK(err.find("'id'") != std::string::npos);
  CHECK(run(c, R"({"schema":null,"payload":null})").first == convert_status::skip);
  CHECK(run(c, R"({"schema":null,"payload":{"a":1}})").second == R"({"a":1})");
  CHECK(run(c, R"({"schema":{"type":"int32"},"payload":5})", &err).first == convert_status::error);
  CHECK(err.find("not a struct") != std::string::npos);
}

TEST_CASE("converter: decimal and date helpers") {
  CHECK(connect::unscaled_to_decimal(std::string("\xff", 1), 0) == "-1");
  CHECK(connect::unscaled_to_decimal(std::string("\xfe\x0c", 2), 2) == "-5.00");
  CHECK(connect::unscaled_to_decimal(std::string("\x01", 1), 3) == "0.001");
  CHECK(connect::unscaled_to_decimal(std::string("\x00", 1), 0) == "0");
  CHECK(connect::days_to_date(0) == "1970-01-01");
  CHECK(connect::days_to_date(-1) == "1969-12-31");
  CHECK(connect::millis_to_datetime(-1) == "1969-12-31 23:59:59.999");
  bool ok = false;
  CHECK(connect::base64_decode("aGk=", ok) == "hi");
  CHECK(ok);
  connect::base64_decode("a*b", ok);
  CHECK_FALSE(ok);
}

TEST_CASE("converter: schema'd values without transforms honour the connector's time zone") {
  std::string err;
  auto zone = connect::time_zone::load("+08:00", err);
  connect::record_converter c(json_spec(true), conf::load_format::json, zone.get());
  auto [st, row] = run(c, R"({"schema":{"type":"struct","fields":[{"type":"string","optional":true,
      "name":"io.debezium.time.ZonedTimestamp","field":"at"}]},"payload":{"at":"2018-06-20T13:37:03Z"}})");
  CHECK(st == convert_status::row);
  CHECK(row == R"({"at":"2018-06-20 21:37:03"})");
}

// A record nested ~100,000 levels deep once overflowed the stack while its tree was copied
// and rendered (schemas.enable and the transforms path). Every path now refuses it first.
TEST_CASE("converter: documents nested deeper than the limit are refused on every path, without recursion") {
  const size_t deep = 100000;
  const std::string arrays = std::string(deep, '[') + std::string(deep, ']');
  const std::string objects = [&] {
    std::string s;
    for (size_t i = 0; i < deep; ++i) s += "{\"a\":";
    s += "1" + std::string(deep, '}');
    return s;
  }();
  const std::string envelope = "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"a\":" + arrays + "}}";
  const std::string expected = "nested deeper than " + std::to_string(connect::max_json_depth) + " levels";

  for (bool schemas : {false, true}) {
    connect::record_converter c(json_spec(schemas), conf::load_format::json);
    for (const auto* value : {&arrays, &objects, &envelope}) {
      std::string err;
      CHECK(run(c, *value, &err).first == convert_status::error);
      // Plain JSON rows must be objects; a top-level array is refused for that first.
      const bool plain_array = !schemas && value == &arrays;
      CHECK_MESSAGE(err.find(plain_array ? "not a JSON object" : expected) != std::string::npos, err);
    }
  }
  // The decoder the transforms use.
  std::optional<connect::schema_and_value> out;
  std::string err;
  CHECK_FALSE(connect::decode(json_spec(true), envelope.data(), envelope.size(), out, err));
  CHECK(err.find(expected) != std::string::npos);
  CHECK_FALSE(connect::decode(json_spec(false), objects.data(), objects.size(), out, err));
  CHECK(err.find(expected) != std::string::npos);
  // At the limit it still converts; brackets inside strings do not count.
  const std::string at_limit = std::string(connect::max_json_depth - 1, '[') + std::string(connect::max_json_depth - 1, ']');
  CHECK(connect::decode(json_spec(false), ("{\"a\":" + at_limit + "}").data(), at_limit.size() + 6, out, err));
  CHECK_FALSE(connect::nested_deeper_than("{\"s\":\"" + std::string(deep, '[') + "\"}"));
  CHECK(connect::nested_deeper_than(std::string(connect::max_json_depth + 1, '{')));
  // A Debezium Json column carrying a deep document is an error of that field, not a crash.
  json schema = {{"type", "struct"},
                 {"fields", json::array({{{"field", "doc"}, {"type", "string"}, {"name", "io.debezium.data.Json"}}})}};
  json payload = {{"doc", arrays}};
  CHECK_THROWS_WITH_AS(connect::render_with_schema(schema, payload), doctest::Contains(expected.c_str()), std::runtime_error);
}
