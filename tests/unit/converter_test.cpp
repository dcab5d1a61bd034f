// The converter registry and both directions of each registered converter.
#include <doctest/doctest.h>

#include "protocol/connect/converter.h"

using namespace starpipe;
using connect::json;

namespace {

conf::converter_spec spec(const std::string& class_name, bool schemas_enable = true) {
  conf::converter_spec s;
  s.class_name = class_name;
  s.schemas_enable = schemas_enable;
  s.kind = connect::find_converter(class_name)->kind;
  return s;
}

std::optional<connect::schema_and_value> to_connect(const connect::converter& c, const std::string& bytes) {
  std::optional<connect::schema_and_value> out;
  std::string error;
  REQUIRE_MESSAGE(c.to_connect(bytes.data(), bytes.size(), out, error), error);
  return out;
}

const char* json_class = "org.apache.kafka.connect.json.JsonConverter";
const char* string_class = "org.apache.kafka.connect.storage.StringConverter";
const char* bytes_class = "org.apache.kafka.connect.converters.ByteArrayConverter";

} // namespace

TEST_CASE("converters: registered by Kafka Connect class name, sorted; unknown classes refused") {
  const auto& all = connect::converter_plugins();
  REQUIRE(all.size() == 3);
  CHECK(all[0].class_name == bytes_class);
  CHECK(all[1].class_name == json_class);
  CHECK(all[2].class_name == string_class);
  CHECK(connect::find_converter("io.confluent.connect.avro.AvroConverter") == nullptr);
  CHECK(connect::converter_class_list() == std::string(bytes_class) + ", " + json_class + ", " + string_class);
  conf::converter_spec unknown;
  unknown.class_name = "com.example.Nope";
  CHECK_THROWS_AS(connect::make_converter(unknown), std::invalid_argument);
}

TEST_CASE("JsonConverter with schemas: an envelope comes back as the same schema and payload") {
  auto c = connect::make_converter(spec(json_class, true));
  std::string bytes =
      R"({"schema":{"type":"struct","fields":[{"field":"id","type":"int32","optional":false}],"optional":false},"payload":{"id":7}})";
  auto data = to_connect(*c, bytes);
  REQUIRE(data);
  CHECK(data->value["id"] == 7);
  auto back = c->from_connect(data);
  REQUIRE(back);
  CHECK(json::parse(*back) == json::parse(bytes));
  // Null data is null bytes (a tombstone), both ways.
  CHECK_FALSE(c->from_connect(std::nullopt));
  std::optional<connect::schema_and_value> none;
  std::string error;
  CHECK(c->to_connect(nullptr, 0, none, error));
  CHECK_FALSE(none);
  // A payload that breaks its schema is refused with Connect's words.
  std::string bad = R"({"schema":{"type":"int32","optional":false},"payload":"x"})";
  CHECK_FALSE(c->to_connect(bad.data(), bad.size(), none, error));
  CHECK(error.find("Converting byte[] to Kafka Connect data failed") == 0);
}

TEST_CASE("JsonConverter without schemas: plain JSON both ways") {
  auto c = connect::make_converter(spec(json_class, false));
  auto data = to_connect(*c, R"({"a":[1,2],"b":"x"})");
  REQUIRE(data);
  CHECK(data->schema.is_null());
  CHECK(*c->from_connect(data) == R"({"a":[1,2],"b":"x"})");
  std::string error;
  std::optional<connect::schema_and_value> out;
  std::string broken = "{\"a\":";
  CHECK_FALSE(c->to_connect(broken.data(), broken.size(), out, error));
  CHECK(error.find("not valid JSON") != std::string::npos);
}

TEST_CASE("StringConverter and ByteArrayConverter: the bytes unchanged both ways") {
  for (const char* cls : {string_class, bytes_class}) {
    CAPTURE(cls);
    auto c = connect::make_converter(spec(cls));
    std::string bytes = std::string("1\tNew York\0x", 12);
    auto data = to_connect(*c, bytes);
    REQUIRE(data);
    CHECK(data->schema["type"] == (cls == string_class ? "string" : "bytes"));
    CHECK(*c->from_connect(data) == bytes);
  }
}
