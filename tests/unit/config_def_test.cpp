// Keys declared once: the tables the parsers read, what validate and the reference show of
// them, and that the hand-written struct defaults and docs/configuration.md cannot drift.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "conf/config_def.h"
#include "conf/connector_config.h"
#include "conf/key_tables.h"
#include "protocol/rest/connect_api.h"
#include "protocol/transforms/registry.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace starpipe;
using namespace starpipe::conf;

namespace {

config_def sample() {
  config_def d("sample");
  d.define(long_key("size", 10, 1, 100, "how big"));
  d.define(long_key("flink.size", 10, 5, 50, "").alias("size"));
  d.define(bool_key("on", true, "switch"));
  d.define(choice_key("mode", "Fast", {"Fast", "Safe"}, "how"));
  d.define(required_key("who", "someone"));
  d.define(prefix_key("extra.", "passed on"));
  d.define(string_key("legacy", "x", "old").without_effect("nothing reads it"));
  return d;
}

properties props(const std::string& text) { return parse_properties(text, "f.properties"); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* minimal_connector =
    "name=sr\nconnector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\ntopics=t\n"
    "starrocks.http.url=127.0.0.1:8030\nstarrocks.database.name=db\nstarrocks.username=root\nstarrocks.password=\n";

} // namespace

TEST_CASE("key table: defaults, ranges and choices come from the declaration") {
  auto d = sample();
  config_errors errs;
  auto empty = props("");
  CHECK(d.read_long(empty, "size", errs) == 10);
  CHECK(d.read_bool(empty, "on", errs));
  CHECK(d.read_choice(empty, "mode", errs) == "Fast");
  CHECK(errs.empty());
  auto given = props("size=42\non=false\nmode=safe\n");
  CHECK(d.read_long(given, "size", errs) == 42);
  CHECK_FALSE(d.read_bool(given, "on", errs));
  CHECK(d.read_choice(given, "mode", errs) == "Safe"); // spelled as declared
  CHECK(errs.empty());
  auto bad = props("size=101\nmode=slow\n");
  CHECK(d.read_long(bad, "size", errs) == 10);
  CHECK(d.read_choice(bad, "mode", errs) == "Fast");
  REQUIRE(errs.all().size() == 2);
  CHECK(errs.all()[0].problem == "must be an integer in [1, 100]");
  CHECK(errs.all()[1].problem == "must be Fast or Safe");
  CHECK(d.read_required(empty, "who", errs) == std::nullopt);
  CHECK(errs.all().back().problem.find("You must specify who") != std::string::npos);
  // Reading a key the table does not declare is a programming error, not a silent default.
  CHECK_THROWS_AS(d.read_long(empty, "sizes", errs), std::logic_error);
  CHECK_THROWS_AS(d.define(bool_key("on", false, "again")), std::logic_error);
}

TEST_CASE("key table: an alias is read with its own range and may not contradict the key") {
  auto d = sample();
  config_errors errs;
  CHECK(d.read_long(props("flink.size=20\n"), "size", errs) == 20);
  CHECK(errs.empty());
  d.read_long(props("flink.size=60\n"), "size", errs); // in size's range, not in its own
  REQUIRE(errs.all().size() == 1);
  CHECK(errs.all()[0].key == "flink.size");
  config_errors conflict;
  d.read_long(props("size=20\nflink.size=30\n"), "size", conflict);
  REQUIRE(conflict.all().size() == 1);
  CHECK(conflict.all()[0].problem.find("conflicts with size") != std::string::npos);
}

TEST_CASE("key table: undeclared keys, prefixes and keys without effect") {
  auto d = sample();
  auto p = props("extra.anything=1\nlegacy=x\nunknown=2\nlegacy2=3\n");
  CHECK(d.undeclared(p) == std::vector<std::string>{"unknown", "legacy2"});
  CHECK(d.without_effect(p).empty()); // legacy at its default changes nothing to say
  auto changed = d.without_effect(props("legacy=y\n"));
  REQUIRE(changed.size() == 1);
  CHECK(changed[0] == "f.properties: legacy=y is accepted and has no effect: nothing reads it");
  config_errors errs;
  auto unknown = d.check_prefixed(props("pre.size=7\npre.mode=bogus\npre.nope=1\n"), "pre.", errs);
  CHECK(unknown == std::vector<std::string>{"pre.nope"});
  REQUIRE(errs.all().size() == 1);
  CHECK(errs.all()[0].key == "pre.mode");
}

TEST_CASE("key table: the reference escapes what Markdown would eat") {
  config_def d("md");
  d.define(string_key("a", "x|y", "uses <name> and ssl.* | consumer.*"));
  std::string md = d.markdown();
  CHECK(md.find("uses \\<name\\> and ssl.\\* \\| consumer.\\*") != std::string::npos);
  CHECK(md.find("`x\\|y`") != std::string::npos);
}

TEST_CASE("key tables: the struct defaults are the declared defaults") {
  // connector_config and worker_config keep member defaults for code that builds them
  // directly (tests, the REST validate step); they must say what the tables say.
  auto c = parse_connector_config(props(minimal_connector), worker_config{});
  connector_config blank;
  CHECK(c.tasks_max == blank.tasks_max);
  CHECK(c.buffer_max_bytes == blank.buffer_max_bytes);
  CHECK(c.buffer_interval_ms == blank.buffer_interval_ms);
  CHECK(c.connect_timeout_ms == blank.connect_timeout_ms);
  CHECK(c.max_retries == blank.max_retries);
  CHECK(c.buffer_max_rows == blank.buffer_max_rows);
  CHECK(c.wait_for_continue_ms == blank.wait_for_continue_ms);
  CHECK(c.socket_timeout_ms == blank.socket_timeout_ms);
  CHECK(c.ignore_update_before == blank.ignore_update_before);
  CHECK(c.semantic == blank.semantic);
  CHECK(c.version == blank.version);
  CHECK(c.ignore_deletes == blank.ignore_deletes);
  CHECK(c.errors_tolerate_all == blank.errors_tolerate_all);
  auto w = parse_worker_config(props(""));
  worker_config wblank;
  CHECK(w.bootstrap_servers == wblank.bootstrap_servers);
  CHECK(w.offset_flush_interval_ms == wblank.offset_flush_interval_ms);
  CHECK(w.offset_flush_timeout_ms == wblank.offset_flush_timeout_ms);
  CHECK(w.task_shutdown_graceful_timeout_ms == wblank.task_shutdown_graceful_timeout_ms);
  CHECK(w.task_stall_timeout_ms == wblank.task_stall_timeout_ms);
  CHECK(w.rest_port == wblank.rest_port);
  CHECK(w.rest_host == wblank.rest_host);
  CHECK(w.value_converter.class_name == wblank.value_converter.class_name);
  auto dw = parse_worker_config(props(""), worker_mode::distributed);
  CHECK(dw.config_replication == wblank.config_replication);
  CHECK(dw.status_partitions == wblank.status_partitions);
}

TEST_CASE("key tables: a Kafka Connect key that changes nothing is said so, never silently taken") {
  auto c = parse_connector_config(props(std::string(minimal_connector) +
                                        "errors.retry.timeout=30000\nsink.ignore.update-before=false\n"
                                        "config.action.reload=none\nerrors.retry.delay.max.ms=60000\n"),
                                  worker_config{});
  REQUIRE(c.warnings.size() == 3); // errors.retry.delay.max.ms is at its default
  CHECK(c.warnings[0].find("errors.retry.timeout=30000 is accepted and has no effect") != std::string::npos);
  CHECK(c.warnings[1].find("sink.ignore.update-before=false") != std::string::npos);
  CHECK(c.warnings[2].find("config.action.reload=none") != std::string::npos);
  // A value outside what Kafka Connect allows is still an error.
  CHECK_THROWS_AS(parse_connector_config(props(std::string(minimal_connector) + "errors.retry.timeout=-2\n"),
                                         worker_config{}),
                  config_exception);
  // Header values are never converted, so only the converter that leaves them as they are.
  CHECK_THROWS_AS(parse_connector_config(props(std::string(minimal_connector) +
                                               "header.converter=org.apache.kafka.connect.json.JsonConverter\n"),
                                         worker_config{}),
                  config_exception);
}

TEST_CASE("key tables: each converter checks its own keys") {
  auto c = parse_connector_config(
      props(std::string(minimal_connector) +
            "value.converter.schema.registry.url=http://127.0.0.1:8081\n"
            "key.converter=org.apache.kafka.connect.storage.StringConverter\nkey.converter.schemas.enable=false\n"
            "value.converter.schemas.enable=false\n"),
      worker_config{});
  REQUIRE(c.warnings.size() == 2);
  CHECK(c.warnings[0].find("key.converter.schemas.enable is not a key of key.converter=StringConverter") !=
        std::string::npos);
  CHECK(c.warnings[1].find("value.converter.schema.registry.url is not a key of value.converter=JsonConverter") !=
        std::string::npos);
  CHECK(c.warnings[1].find("AvroConverter") != std::string::npos);
  try {
    parse_connector_config(props(std::string(minimal_connector) + "value.converter.decimal.format=HEX\n"),
                           worker_config{});
    FAIL("expected an error");
  } catch (const config_exception& e) {
    REQUIRE(e.errors.all().size() == 1);
    CHECK(e.errors.all()[0].key == "value.converter.decimal.format");
    CHECK(e.errors.all()[0].problem == "must be BASE64 or NUMERIC");
  }
}

TEST_CASE("key tables: config/validate describes every declared key from the table") {
  auto cfg = nlohmann::json::parse(
      R"({"connector.class":"com.starrocks.connector.kafka.StarRocksSinkConnector","name":"x","topics":"t",
          "starrocks.http.url":"fe:8030","starrocks.database.name":"d","starrocks.username":"u",
          "starrocks.password":"pw","sink.properties.columns":"a,b"})");
  pipelines::connector_registry registry; // handle() reads the registry for every path
  rest::api_context ctx;
  ctx.registry = &registry;
  auto r = rest::handle({"PUT", "/connector-plugins/StarRocksSinkConnector/config/validate", cfg.dump()}, ctx);
  REQUIRE(r.status == 200);
  auto v = nlohmann::json::parse(r.body);
  CHECK(v["error_count"] == 0);
  std::map<std::string, nlohmann::json> defs, values;
  for (const auto& c : v["configs"]) {
    defs[c["definition"]["name"]] = c["definition"];
    values[c["value"]["name"]] = c["value"];
  }
  for (const auto& k : sink_connector_keys().keys())
    if (!k.prefix) CHECK_MESSAGE(defs.count(k.name) == 1, k.name << " is declared but validate does not show it");
  CHECK(defs["tasks.max"]["type"] == "INT");
  CHECK(defs["tasks.max"]["default_value"] == "1");
  CHECK(defs["bufferflush.maxbytes"]["type"] == "LONG");
  CHECK(defs["starrocks.http.url"]["required"] == true);
  CHECK(defs["starrocks.password"]["type"] == "PASSWORD");
  CHECK(values["starrocks.password"]["value"] == "[hidden]");
  CHECK(defs["sink.semantic"]["group"] == "Flink connector options");
  CHECK(values["sink.semantic"]["recommended_values"] == nlohmann::json::array({"at-least-once", "exactly-once"}));
  CHECK(defs["sink.properties.columns"]["documentation"].get<std::string>().find("Stream Load header") !=
        std::string::npos);
  CHECK(v["groups"].size() == sink_connector_keys().groups().size());
}

TEST_CASE("docs: configuration.md shows the key tables the code declares") {
  std::string doc = read_file(STARPIPE_SOURCE_DIR "/docs/configuration.md");
  const std::string begin = "<!-- BEGIN generated by `starpipe config-reference` -->\n", end = "<!-- END generated -->";
  auto a = doc.find(begin), b = doc.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::string shown = doc.substr(a + begin.size(), b - a - begin.size());
  CHECK_MESSAGE(shown == configuration_reference(),
                "docs/configuration.md is out of date with the key tables: run scripts/config-reference");
}

TEST_CASE("key tables: config/validate describes each transform alias's and predicate's keys in their own group") {
  auto cfg = nlohmann::json::parse(
      R"({"connector.class":"com.starrocks.connector.kafka.StarRocksSinkConnector","name":"x","topics":"t",
          "starrocks.http.url":"fe:8030","starrocks.database.name":"d","starrocks.username":"u",
          "starrocks.password":"pw","transforms":"unwrap","predicates":"isTomb",
          "transforms.unwrap.type":"io.debezium.transforms.ExtractNewRecordState",
          "transforms.unwrap.predicate":"isTomb","transforms.unwrap.negate":"true",
          "transforms.unwrap.bogus":"1",
          "predicates.isTomb.type":"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"})");
  pipelines::connector_registry registry;
  rest::api_context ctx;
  ctx.registry = &registry;
  auto r = rest::handle({"PUT", "/connector-plugins/StarRocksSinkConnector/config/validate", cfg.dump()}, ctx);
  REQUIRE(r.status == 200);
  auto v = nlohmann::json::parse(r.body);
  std::map<std::string, nlohmann::json> defs, values;
  for (const auto& c : v["configs"]) {
    defs[c["definition"]["name"]] = c["definition"];
    values[c["value"]["name"]] = c["value"];
  }
  CHECK(defs["transforms.unwrap.type"]["type"] == "CLASS");
  CHECK(defs["transforms.unwrap.type"]["required"] == true);
  CHECK(defs["transforms.unwrap.type"]["group"] == "Transforms: unwrap");
  // Every option of the class, given or not, from its table.
  for (const auto& o : transforms::find_transform("io.debezium.transforms.ExtractNewRecordState")->options->keys()) {
    const std::string key = "transforms.unwrap." + o.name;
    REQUIRE_MESSAGE(defs.count(key) == 1, key);
    CHECK(defs[key]["group"] == "Transforms: unwrap");
    CHECK(defs[key]["documentation"] == o.doc);
  }
  CHECK(values["transforms.unwrap.replace.null.with.default"]["recommended_values"] == nlohmann::json::array({"true"}));
  CHECK(defs["transforms.unwrap.negate"]["type"] == "BOOLEAN");
  CHECK(defs["predicates.isTomb.type"]["group"] == "Predicates: isTomb");
  // The undeclared option is listed with the chain builder's error on it.
  REQUIRE(values.count("transforms.unwrap.bogus") == 1);
  REQUIRE(values["transforms.unwrap.bogus"]["errors"].size() == 1);
  CHECK(values["transforms.unwrap.bogus"]["errors"][0].get<std::string>().find("unknown option") != std::string::npos);
  CHECK(v["error_count"] == 1);
  bool grouped = false;
  for (const auto& g : v["groups"]) grouped = grouped || g == "Transforms: unwrap";
  CHECK(grouped);
}
