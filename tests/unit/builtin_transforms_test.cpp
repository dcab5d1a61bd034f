#include <doctest/doctest.h>

#include "conf/properties.h"
#include "protocol/connect/record.h"
#include "protocol/transforms/builtin_transforms.h"

using namespace starpipe;
using connect::connect_record;
using connect::json;

namespace {

std::shared_ptr<const transforms::chain> chain_of(const std::string& props, std::string* errors = nullptr) {
  auto p = conf::parse_properties(props, "test");
  conf::config_errors errs;
  auto specs = transforms::read_transform_specs(p, errs);
  for (const auto& s : specs) {
    transforms::make_transform(s, p, errs);
    if (s.predicate) transforms::make_predicate(*s.predicate, p, errs);
  }
  if (errors) {
    *errors = errs.to_string();
    return nullptr;
  }
  REQUIRE_MESSAGE(errs.empty(), errs.to_string());
  return transforms::build_chain(specs);
}

connect_record schemaful() {
  connect_record r;
  r.topic = "orders";
  r.partition = 3;
  r.offset = 77;
  r.timestamp = 1700000000123;
  r.value = connect::schema_and_value{
      json::parse(R"({"type":"struct","name":"order","optional":false,"fields":[
        {"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"secret"},
        {"type":"string","optional":true,"field":"amount"},{"type":"string","optional":true,"field":"created"}]})"),
      json::parse(R"({"id":5,"secret":"s","amount":"12.5","created":"2024-03-01 10:20:30"})")};
  return r;
}

connect_record schemaless() {
  auto r = schemaful();
  r.value->schema = json();
  return r;
}

std::string row(const std::optional<connect_record>& r) {
  REQUIRE(r);
  std::string err;
  auto row = connect::render_row(*r, {}, err);
  REQUIRE_MESSAGE(row, err);
  return *row;
}

const std::string T = "org.apache.kafka.connect.transforms.";

} // namespace

TEST_CASE("ReplaceField: exclude, include and renames, with and without schema") {
  auto t = chain_of("transforms=r\ntransforms.r.type=" + T + "ReplaceField$Value\ntransforms.r.exclude=secret\n"
                    "transforms.r.renames=amount:total\n");
  CHECK(row(t->apply(schemaful())) == R"({"id":5,"total":"12.5","created":"2024-03-01 10:20:30"})");
  CHECK(row(t->apply(schemaless())) == R"({"id":5,"total":"12.5","created":"2024-03-01 10:20:30"})");
  auto inc = chain_of("transforms=r\ntransforms.r.type=" + T + "ReplaceField$Value\ntransforms.r.include=id\n");
  CHECK(row(inc->apply(schemaful())) == R"({"id":5})");
}

TEST_CASE("InsertField: topic, partition, offset, timestamp and a static field") {
  auto t = chain_of("transforms=i\ntransforms.i.type=" + T + "InsertField$Value\ntransforms.i.topic.field=t\n"
                    "transforms.i.partition.field=p\ntransforms.i.offset.field=o!\ntransforms.i.timestamp.field=ts\n"
                    "transforms.i.static.field=origin\ntransforms.i.static.value=kafka\n");
  auto j = json::parse(row(t->apply(schemaful())));
  CHECK(j["t"] == "orders");
  CHECK(j["p"] == 3);
  CHECK(j["o"] == 77);
  CHECK(j["ts"] == "2023-11-14 22:13:20.123");
  CHECK(j["origin"] == "kafka");
  CHECK(json::parse(row(t->apply(schemaless())))["ts"] == "2023-11-14 22:13:20.123");
}

TEST_CASE("TimestampConverter: string to Timestamp and back to a formatted string") {
  auto t = chain_of("transforms=c\ntransforms.c.type=" + T + "TimestampConverter$Value\ntransforms.c.field=created\n"
                    "transforms.c.format=yyyy-MM-dd HH:mm:ss\ntransforms.c.target.type=Timestamp\n");
  auto r = t->apply(schemaful());
  CHECK(r->value->value["created"] == 1709288430000);
  CHECK(json::parse(row(r))["created"] == "2024-03-01 10:20:30.000");
  auto s = chain_of("transforms=c\ntransforms.c.type=" + T + "TimestampConverter$Value\ntransforms.c.field=created\n"
                    "transforms.c.format=yyyy-MM-dd HH:mm:ss\ntransforms.c.target.type=unix\n"
                    "transforms.c.unix.precision=seconds\n");
  CHECK(s->apply(schemaless())->value->value["created"] == 1709288430);
  CHECK(transforms::format_timestamp(1709288430123, "yyyy-MM-dd'T'HH:mm:ss.SSSX") == "2024-03-01T10:20:30.123Z");
  CHECK(transforms::parse_timestamp("2024-03-01T10:20:30.123Z", "yyyy-MM-dd'T'HH:mm:ss.SSSX") == 1709288430123);
  CHECK_FALSE(transforms::parse_timestamp("2024/03/01", "yyyy-MM-dd"));
}

TEST_CASE("RegexRouter, ValueToKey, ExtractField, HoistField, Cast") {
  auto router = chain_of("transforms=r\ntransforms.r.type=" + T + "RegexRouter\ntransforms.r.regex=(.*)ders\n"
                         "transforms.r.replacement=$1_tbl\n");
  CHECK(router->apply(schemaful())->topic == "or_tbl");
  auto v2k = chain_of("transforms=k\ntransforms.k.type=" + T + "ValueToKey\ntransforms.k.fields=id\n");
  auto k = v2k->apply(schemaful());
  CHECK(k->key->value == json{{"id", 5}});
  CHECK(k->key->schema["fields"][0]["type"] == "int64");
  auto hoist = chain_of("transforms=h\ntransforms.h.type=" + T + "HoistField$Value\ntransforms.h.field=line\n");
  connect_record s;
  s.value = connect::schema_and_value{json{{"type", "string"}}, json("1|a")};
  CHECK(row(hoist->apply(s)) == R"({"line":"1|a"})");
  auto extract = chain_of("transforms=e\ntransforms.e.type=" + T + "ExtractField$Value\ntransforms.e.field=inner\n");
  connect_record nested;
  nested.value = connect::schema_and_value{json(), json::parse(R"({"inner":{"a":1},"other":2})")};
  CHECK(row(extract->apply(nested)) == R"({"a":1})");
  auto cast = chain_of("transforms=c\ntransforms.c.type=" + T + "Cast$Value\ntransforms.c.spec=amount:float64,id:string\n");
  auto j = json::parse(row(cast->apply(schemaful())));
  CHECK(j["amount"] == 12.5);
  CHECK(j["id"] == "5");
}

TEST_CASE("predicates: Filter with TopicNameMatches, RecordIsTombstone and negate") {
  auto t = chain_of("transforms=f\ntransforms.f.type=" + T + "Filter\ntransforms.f.predicate=isOrders\n"
                    "predicates=isOrders\npredicates.isOrders.type=" + T + "predicates.TopicNameMatches\n"
                    "predicates.isOrders.pattern=ord.*\n");
  CHECK_FALSE(t->apply(schemaful()));
  auto other = schemaful();
  other.topic = "payments";
  CHECK(t->apply(other));
  auto negated = chain_of("transforms=f\ntransforms.f.type=" + T + "Filter\ntransforms.f.predicate=tomb\n"
                          "transforms.f.negate=true\npredicates=tomb\npredicates.tomb.type=" + T +
                          "predicates.RecordIsTombstone\n");
  CHECK_FALSE(negated->apply(schemaful())); // not a tombstone -> filtered
  connect_record tomb;
  CHECK(negated->apply(tomb));
  auto header = chain_of("transforms=f\ntransforms.f.type=" + T + "Filter\ntransforms.f.predicate=h\n"
                         "predicates=h\npredicates.h.type=" + T + "predicates.HasHeaderKey\npredicates.h.name=skip\n");
  auto with_header = schemaful();
  with_header.headers.emplace_back("skip", "1");
  CHECK_FALSE(header->apply(with_header));
  CHECK(header->apply(schemaful()));
}

TEST_CASE("built-in transform errors name the alias, class and key") {
  std::string e;
  chain_of("transforms=c,r,p\ntransforms.c.type=" + T + "Cast$Value\ntransforms.c.spec=id:decimal\n"
           "transforms.r.type=" + T + "RegexRouter\ntransforms.r.regex=(\n"
           "transforms.p.type=" + T + "Filter\ntransforms.p.predicate=missing\n",
           &e);
  CHECK(e.find("transforms.c.spec='id:decimal': type 'decimal' must be one of") != std::string::npos);
  CHECK(e.find("alias 'c', org.apache.kafka.connect.transforms.Cast$Value") != std::string::npos);
  CHECK(e.find("transforms.r.regex='(': must be a regular expression") != std::string::npos);
  CHECK(e.find("transforms.p.predicate='missing': predicate 'missing' of alias 'p' is not listed in predicates") !=
        std::string::npos);
}
