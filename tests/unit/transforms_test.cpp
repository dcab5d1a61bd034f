// The transforms and row rendering over real Debezium change events
// (tests/fixtures/debezium), each output checked by hand against the event.
#include <doctest/doctest.h>

#include "tests/unit/fixture_text.h"

#include <fstream>
#include <sstream>

#include "conf/properties.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/record.h"
#include "protocol/transforms/registry.h"
#include "protocol/transforms/transform.h"

using namespace starpipe;
using connect::connect_record;
using connect::json;

namespace {

using testing::fixture_text;

connect_record record_from(const std::string& fixture, bool schemas = true) {
  connect_record r;
  r.topic = "dbserver1.inventory.customers";
  r.offset = 42;
  if (fixture.empty()) return r; // tombstone
  std::string text = fixture_text(fixture);
  conf::converter_spec spec;
  spec.schemas_enable = true;
  std::string error;
  REQUIRE(connect::decode(spec, text.data(), text.size(), r.value, error));
  if (!schemas && r.value) r.value->schema = json(); // what schemas.enable=false delivers
  return r;
}

std::shared_ptr<const transforms::chain> chain_of(const std::string& props) {
  auto p = conf::parse_properties(props, "test");
  conf::config_errors errs;
  auto specs = transforms::read_transform_specs(p, errs);
  for (const auto& s : specs) transforms::make_transform(s, p, errs);
  REQUIRE_MESSAGE(errs.empty(), errs.to_string());
  return transforms::build_chain(specs);
}

const char* addfield = "transforms.addfield.type=com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord\n";
const char* unwrap = "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n";

std::optional<std::string> row_of(const std::optional<connect_record>& r, std::string* error = nullptr) {
  REQUIRE(r);
  std::string err;
  auto row = connect::render_row(*r, connect::render_options{}, err);
  if (error) *error = err;
  return row;
}

} // namespace

TEST_CASE("AddOpField: __op 0 on the after image of c, u and r; 1 on the before image of d") {
  auto t = chain_of(std::string("transforms=addfield\n") + addfield);
  auto c = t->apply(record_from("postgres-create.json"));
  CHECK(c->value->value["after"]["__op"] == 0);
  auto after_schema = transforms::field_schema(c->value->schema, "after");
  CHECK(after_schema["fields"].back() == json{{"type", "int32"}, {"optional", false}, {"field", "__op"}});
  CHECK(t->apply(record_from("mysql-update.json"))->value->value["after"]["__op"] == 0);
  CHECK(t->apply(record_from("mysql-snapshot-read.json"))->value->value["after"]["__op"] == 0); // r: an upsert
  auto d = t->apply(record_from("mysql-delete.json"));
  CHECK(d->value->value["before"]["__op"] == 1);
  CHECK(d->value->value["after"].is_null());
  auto tr = t->apply(record_from("postgres-truncate.json"));
  CHECK_FALSE(tr->value->value["after"].contains("__op"));
  CHECK_FALSE(t->apply(record_from(""))->value); // tombstones pass
}

TEST_CASE("AddOpField: schemaless envelopes (schemas.enable=false) are handled too") {
  auto t = chain_of(std::string("transforms=addfield\n") + addfield);
  auto c = t->apply(record_from("postgres-create.json", false));
  CHECK(c->value->value["after"]["__op"] == 0);
  CHECK(t->apply(record_from("mysql-delete.json", false))->value->value["before"]["__op"] == 1);
}

TEST_CASE("ExtractNewRecordState: the default (tombstone) mode") {
  auto t = chain_of(std::string("transforms=unwrap\n") + unwrap);
  auto c = t->apply(record_from("postgres-create.json"));
  CHECK(row_of(c) == R"({"id":1,"first_name":"Anne","last_name":"Kretchmar","email":"annek@noanswer.org"})");
  CHECK(c->value->schema.value("name", "") == "PostgreSQL_server.inventory.customers.Value");
  auto d = t->apply(record_from("mysql-delete.json"));
  REQUIRE(d);
  CHECK_FALSE(d->value); // a null value: no row
  CHECK_FALSE(t->apply(record_from("")));                   // source tombstone dropped
  CHECK_FALSE(t->apply(record_from("postgres-truncate.json"))); // truncate dropped
}

TEST_CASE("ExtractNewRecordState: rewrite adds __deleted and keeps deletes as rows") {
  auto t = chain_of(std::string("transforms=unwrap\n") + unwrap + "transforms.unwrap.delete.tombstone.handling.mode=rewrite\n");
  auto c = t->apply(record_from("mysql-create.json"));
  auto row = json::parse(*row_of(c));
  CHECK(row["__deleted"] == "false");
  auto d = json::parse(*row_of(t->apply(record_from("mysql-delete.json"))));
  CHECK(d["id"] == 1004);
  CHECK(d["email"] == "annek@noanswer.org");
  CHECK(d["__deleted"] == "true");
  CHECK_FALSE(t->apply(record_from("")));
}

TEST_CASE("ExtractNewRecordState: rewrite-with-tombstone, drop and delete-to-tombstone") {
  auto keep = chain_of(std::string("transforms=unwrap\n") + unwrap +
                       "transforms.unwrap.delete.tombstone.handling.mode=rewrite-with-tombstone\n");
  CHECK(keep->apply(record_from("")));
  auto drop = chain_of(std::string("transforms=unwrap\n") + unwrap + "transforms.unwrap.delete.tombstone.handling.mode=drop\n");
  CHECK_FALSE(drop->apply(record_from("mysql-delete.json")));
  CHECK(drop->apply(record_from("mysql-create.json")));
  auto dtt = chain_of(std::string("transforms=unwrap\n") + unwrap +
                      "transforms.unwrap.delete.tombstone.handling.mode=delete-to-tombstone\n");
  auto d = dtt->apply(record_from("mysql-delete.json"));
  REQUIRE(d);
  CHECK_FALSE(d->value);
  CHECK_FALSE(d->value_schema_of_null);
}

TEST_CASE("ExtractNewRecordState: legacy drop.tombstones and delete.handling.mode") {
  auto rw = chain_of(std::string("transforms=unwrap\n") + unwrap +
                     "transforms.unwrap.drop.tombstones=true\ntransforms.unwrap.delete.handling.mode=rewrite\n");
  CHECK(json::parse(*row_of(rw->apply(record_from("mysql-delete.json"))))["__deleted"] == "true");
  CHECK_FALSE(rw->apply(record_from("")));
  auto legacy_default = chain_of(std::string("transforms=unwrap\n") + unwrap + "transforms.unwrap.drop.tombstones=false\n");
  CHECK_FALSE(legacy_default->apply(record_from("mysql-delete.json"))); // legacy default drops deletes
  CHECK(legacy_default->apply(record_from("")));                       // and passes tombstones
  auto none = chain_of(std::string("transforms=unwrap\n") + unwrap + "transforms.unwrap.delete.handling.mode=none\n");
  auto d = none->apply(record_from("mysql-delete.json"));
  REQUIRE(d);
  CHECK_FALSE(d->value);
}

TEST_CASE("ExtractNewRecordState: add.fields, add.headers and route.by.field") {
  auto t = chain_of(std::string("transforms=unwrap\n") + unwrap +
                    "transforms.unwrap.add.fields=op,table,source.ts_ms,lsn:LSN\n"
                    "transforms.unwrap.add.headers=op,db\ntransforms.unwrap.route.by.field=last_name\n");
  auto c = t->apply(record_from("postgres-create.json"));
  auto row = json::parse(*row_of(c));
  CHECK(row["__op"] == "c");
  CHECK(row["__table"] == "customers");
  CHECK(row["__source_ts_ms"] == 1559033904863);
  CHECK(row["__LSN"] == 24023128);
  std::vector<std::string> order;
  for (auto it = row.begin(); it != row.end(); ++it) order.push_back(it.key());
  CHECK(order == std::vector<std::string>{"id", "first_name", "last_name", "email", "__op", "__table", "__source_ts_ms",
                                          "__LSN"});
  auto f = transforms::field_schema(c->value->schema, "__source_ts_ms");
  CHECK(f["type"] == "int64");
  CHECK(f["optional"] == true);
  CHECK(c->headers == std::vector<std::pair<std::string, std::string>>{{"__op", "c"}, {"__db", "postgres"}});
  CHECK(c->topic == "Kretchmar");
}

TEST_CASE("ExtractNewRecordState: schemaless envelopes are unwrapped (no NULL rows with schemas off)") {
  auto t = chain_of(std::string("transforms=addfield,unwrap\n") + addfield + unwrap +
                    "transforms.unwrap.drop.tombstones=true\ntransforms.unwrap.delete.handling.mode=rewrite\n");
  auto c = json::parse(*row_of(t->apply(record_from("mysql-create.json", false))));
  CHECK(c["__op"] == 0);
  CHECK(c["__deleted"] == "false");
  auto d = json::parse(*row_of(t->apply(record_from("mysql-delete.json", false))));
  CHECK(d["id"] == 1004);
  CHECK(d["__op"] == 1);
  CHECK(d["__deleted"] == "true");
}

TEST_CASE("the documentation's chain: addfield then unwrap (rewrite, drop.tombstones)") {
  auto t = chain_of(std::string("transforms=addfield,unwrap\n") + addfield + unwrap +
                    "transforms.unwrap.drop.tombstones=true\ntransforms.unwrap.delete.handling.mode=rewrite\n");
  CHECK(row_of(t->apply(record_from("postgres-create.json"))) ==
        R"({"id":1,"first_name":"Anne","last_name":"Kretchmar","email":"annek@noanswer.org","__op":0,"__deleted":"false"})");
  CHECK(json::parse(*row_of(t->apply(record_from("mysql-snapshot-read.json"))))["__op"] == 0);
  auto d = json::parse(*row_of(t->apply(record_from("mysql-delete.json"))));
  CHECK(d["__op"] == 1);
  CHECK_FALSE(t->apply(record_from("")));
  CHECK_FALSE(t->apply(record_from("postgres-truncate.json")));
  // The documentation prints PG deletes with only the key in `before`, while the schema says
  // the other columns are required: Kafka Connect's converter rejects such an event, and so
  // does ours (the task then fails, or skips it with errors.tolerance=all).
  std::string text = fixture_text("postgres-delete.json"), error;
  std::optional<connect::schema_and_value> v;
  CHECK_FALSE(connect::decode(conf::converter_spec{}, text.data(), text.size(), v, error));
  CHECK(error.find("Invalid null value for required STRING field (field 'before.first_name')") != std::string::npos);
}

TEST_CASE("rendering: Debezium and Connect types as StarRocks parses them") {
  auto t = chain_of(std::string("transforms=unwrap\n") + unwrap);
  auto temporal = json::parse(*row_of(t->apply(record_from("mysql-temporal-create.json"))));
  CHECK(temporal["c1"] == "2014-09-08");             // Date: 16321 days
  CHECK(temporal["c2"] == "17:51:04");               // Time: 64264000 ms
  CHECK(temporal["c3"] == "2014-09-08 17:51:04.78"); // Timestamp: 1410198664780 ms
  CHECK(temporal["c4"] == "2014-09-08 17:51:04.78"); // ZonedTimestamp, UTC
  auto zero = json::parse(*row_of(t->apply(record_from("mysql-zero-dates-nullkey-create.json"))));
  CHECK(zero["c1"].is_null());
  CHECK(zero["c2"] == "00:00:00");
  CHECK(zero["c4"] == "1970-01-01 00:00:00");
  auto dec = *row_of(t->apply(record_from("mysql-decimal-create.json")));
  CHECK(dec.find("\"decimal_value\":12345.67") != std::string::npos);
  auto js = json::parse(*row_of(t->apply(record_from("mysql-json-create.json"))));
  CHECK(js["json"]["k2"]["k21"] == "v21"); // io.debezium.data.Json: the document itself
  auto en = json::parse(*row_of(t->apply(record_from("mysql-enum-set-create.json"))));
  CHECK(en["c1"] == "a");
  CHECK(en["c2"] == "a,b,c");
  CHECK(connect::units_to_datetime(1700000000123456, 6) == "2023-11-14 22:13:20.123456");
  CHECK(connect::units_to_time(3723000000000, 9) == "01:02:03");
  std::string err;
  auto shanghai = connect::time_zone::load("Asia/Shanghai", err);
  REQUIRE_MESSAGE(shanghai, err);
  CHECK(connect::zoned_to_datetime("2018-06-20T13:37:03Z", shanghai.get()) == "2018-06-20 21:37:03");
  CHECK(connect::zoned_to_datetime("2018-06-20T13:37:03.5+02:00", nullptr) == "2018-06-20 11:37:03.5");
  auto berlin = connect::time_zone::load("Europe/Berlin", err);
  REQUIRE_MESSAGE(berlin, err);
  CHECK(connect::zoned_to_datetime("2024-01-15T12:00:00Z", berlin.get()) == "2024-01-15 13:00:00"); // CET
  CHECK(connect::zoned_to_datetime("2024-07-15T12:00:00Z", berlin.get()) == "2024-07-15 14:00:00"); // CEST
  auto fixed = connect::time_zone::load("-05:30", err);
  CHECK(connect::zoned_to_datetime("2024-07-15T12:00:00Z", fixed.get()) == "2024-07-15 06:30:00");
  CHECK_FALSE(connect::time_zone::load("Mars/Olympus", err));
  CHECK(err.find("unknown time zone") != std::string::npos);
}

TEST_CASE("transform config errors name the alias, the class and the key") {
  auto p = conf::parse_properties("transforms=unwrap,x,y\n"
                                  "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n"
                                  "transforms.unwrap.delete.tombstone.handling.mode=sometimes\n"
                                  "transforms.unwrap.drop.fields.header.name=h\n"
                                  "transforms.x.type=com.example.Nope\n",
                                  "sink.properties");
  conf::config_errors errs;
  auto specs = transforms::read_transform_specs(p, errs);
  for (const auto& s : specs) transforms::make_transform(s, p, errs);
  std::string e = errs.to_string();
  CHECK(e.find("transforms.unwrap.delete.tombstone.handling.mode='sometimes'") != std::string::npos);
  CHECK(e.find("alias 'unwrap', io.debezium.transforms.ExtractNewRecordState") != std::string::npos);
  CHECK(e.find("transforms.x.type='com.example.Nope': unknown transform class for alias 'x'") != std::string::npos);
  CHECK(e.find("transforms.y.type") != std::string::npos);
  CHECK(e.find("transforms.unwrap.drop.fields.header.name='h': is not supported by starpipe yet") != std::string::npos);
}

TEST_CASE("the registry: every listed transform and predicate class is built by its own entry, and only those") {
  for (const auto& plugin : transforms::transform_plugins()) {
    transforms::transform_spec spec;
    spec.alias = "a";
    spec.type = plugin.class_name;
    conf::properties p;
    conf::config_errors errs;
    transforms::make_transform(spec, p, errs); // options may be missing; the class must be known
    CHECK_MESSAGE(errs.to_string().find("unknown transform class") == std::string::npos, plugin.class_name);
    CHECK(transforms::transform_class_list().find(plugin.class_name) != std::string::npos);
  }
  for (const auto& plugin : transforms::predicate_plugins()) {
    // Each predicate gets the options its table declares (an undeclared one is refused).
    transforms::predicate_spec spec{"p", plugin.class_name, {}};
    for (const auto& [k, v] : std::map<std::string, std::string>{{"pattern", ".*"}, {"name", "h"}})
      if (plugin.options->find(k)) spec.options[k] = v;
    conf::properties props;
    conf::config_errors errs;
    CHECK_MESSAGE(transforms::make_predicate(spec, props, errs) != nullptr, plugin.class_name);
    CHECK(errs.empty());
  }
  CHECK(transforms::transform_plugins().size() == 16);
  CHECK(transforms::find_transform("org.apache.kafka.connect.transforms.InsertField$Key") == nullptr);
  CHECK(transforms::find_predicate("org.apache.kafka.connect.transforms.predicates.Nope") == nullptr);
}

TEST_CASE("every Debezium fixture through the documentation's chain") {
  auto t = chain_of(std::string("transforms=addfield,unwrap\n") + addfield + unwrap +
                    "transforms.unwrap.drop.tombstones=true\ntransforms.unwrap.delete.handling.mode=rewrite\n");
  struct expectation {
    const char* fixture;
    const char* outcome; // "row", "dropped", "decode error"
    const char* check;   // a fragment of the row, for rows
  };
  const expectation cases[] = {
      {"legacy-tombstone-value.json", "dropped", ""},
      {"mysql-create.json", "row", "\"__op\":0,\"__deleted\":\"false\""},
      {"mysql-decimal-create.json", "row", "\"decimal_value\":12345.67,\"__op\":0"},
      {"mysql-delete.json", "row", "\"id\":1004,"},
      {"mysql-enum-set-create.json", "row", "\"c1\":\"a\",\"c2\":\"a,b,c\""},
      {"mysql-json-create.json", "row", "\"json\":{\"k1\":\"v1\""},
      {"mysql-snapshot-read.json", "row", "\"email\":\"annek@noanswer.org\",\"__op\":0"},
      {"mysql-temporal-create.json", "row", "\"c1\":\"2014-09-08\",\"c2\":\"17:51:04\""},
      {"mysql-update.json", "row", "\"__op\":0,\"__deleted\":\"false\""},
      {"mysql-zero-dates-nullkey-create.json", "row", "\"c1\":null,"},
      {"postgres-create.json", "row", "\"id\":1,\"first_name\":\"Anne\""},
      {"postgres-delete.json", "decode error", ""}, // `before` lacks required columns (see SOURCES.md)
      {"postgres-update.json", "decode error", ""},
      {"postgres-truncate.json", "dropped", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.fixture);
    std::string text = fixture_text(c.fixture);
    conf::converter_spec spec;
    connect_record r;
    std::string error;
    bool decoded = connect::decode(spec, text.data(), text.size(), r.value, error);
    if (std::string(c.outcome) == "decode error") {
      CHECK_FALSE(decoded);
      CHECK(error.find("Invalid null value for required STRING field") != std::string::npos);
      continue;
    }
    REQUIRE_MESSAGE(decoded, error);
    auto out = t->apply(std::move(r));
    if (std::string(c.outcome) == "dropped") {
      CHECK_FALSE(out);
      continue;
    }
    auto row = row_of(out);
    REQUIRE(row);
    CHECK_MESSAGE(row->find(c.check) != std::string::npos, *row);
  }
  // Keys: the tombstone key files decode as Debezium keys.
  for (const char* key_file : {"mysql-tombstone-key.json", "postgres-tombstone-key.json"}) {
    std::string text = fixture_text(key_file);
    std::optional<connect::schema_and_value> key;
    std::string error;
    CHECK(connect::decode(conf::converter_spec{}, text.data(), text.size(), key, error));
    CHECK(key->value.is_object());
  }
}

namespace {
// The errors a sink's transforms and predicates give, as one text.
std::string chain_errors(const std::string& text) {
  auto p = conf::parse_properties(text, "sink.properties");
  conf::config_errors errs;
  for (const auto& s : transforms::read_transform_specs(p, errs)) {
    transforms::make_transform(s, p, errs);
    if (s.predicate) transforms::make_predicate(*s.predicate, p, errs);
  }
  return errs.to_string();
}
} // namespace

TEST_CASE("transform options: each class's table refuses what it does not declare and what starpipe cannot honour") {
  for (const auto& plugin : transforms::transform_plugins())
    CHECK_MESSAGE(plugin.options != nullptr, plugin.class_name << " has no options table");
  for (const auto& plugin : transforms::predicate_plugins())
    CHECK_MESSAGE(plugin.options != nullptr, plugin.class_name << " has no options table");
  CHECK(chain_errors("transforms=k\ntransforms.k.type=org.apache.kafka.connect.transforms.ExtractField$Key\n"
                     "transforms.k.field=id\n").empty());
  auto e = chain_errors("transforms=k\ntransforms.k.type=org.apache.kafka.connect.transforms.ExtractField$Key\n"
                        "transforms.k.field=id\ntransforms.k.feild=x\n");
  CHECK(e.find("transforms.k.feild='x': unknown option (alias 'k', "
               "org.apache.kafka.connect.transforms.ExtractField$Key)") != std::string::npos);
  // Accepted values must do what they say: these cannot, so they are refused, not ignored.
  e = chain_errors("transforms=k\ntransforms.k.type=org.apache.kafka.connect.transforms.ExtractField$Value\n"
                   "transforms.k.field=a.b\ntransforms.k.field.syntax.version=V2\n"
                   "transforms.k.replace.null.with.default=false\n");
  CHECK(e.find("transforms.k.field.syntax.version='V2': must be V1") != std::string::npos);
  CHECK(e.find("transforms.k.replace.null.with.default='false': must be true") != std::string::npos);
  CHECK(chain_errors("transforms=u\ntransforms.u.type=io.debezium.transforms.ExtractNewRecordState\n"
                     "transforms.u.replace.null.with.default=TRUE\n")
            .empty());
  e = chain_errors("transforms=op\n"
                   "transforms.op.type=com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord\n"
                   "transforms.op.field=x\n");
  CHECK(e.find("transforms.op.field='x': unknown option (alias 'op'") != std::string::npos);
}

TEST_CASE("predicate options: a predicate's unknown option is refused, naming the predicate") {
  auto e = chain_errors("transforms=f\ntransforms.f.type=org.apache.kafka.connect.transforms.Filter\n"
                        "transforms.f.predicate=t\npredicates=t\n"
                        "predicates.t.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches\n"
                        "predicates.t.pattern=orders.*\npredicates.t.patern=x\n");
  CHECK(e.find("predicates.t.patern='x': unknown option (predicate 't', "
               "org.apache.kafka.connect.transforms.predicates.TopicNameMatches)") != std::string::npos);
  CHECK(e.find("predicates.t.pattern") == std::string::npos);
}
