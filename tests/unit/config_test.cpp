#include <doctest/doctest.h>

#include "conf/connector_config.h"
#include "conf/worker_config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace starpipe::conf;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* base_connector =
    "name=sr\n"
    "connector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\n"
    "topics=test\n"
    "starrocks.http.url=127.0.0.1:8030\n"
    "starrocks.database.name=db\n"
    "starrocks.username=root\n"
    "starrocks.password=\n";

connector_config parse(const std::string& extra, const worker_config& w = worker_config{}) {
  return parse_connector_config(parse_properties(std::string(base_connector) + extra, "sink.properties"), w);
}

std::string error_of(const std::string& text) {
  try {
    parse_connector_config(parse_properties(text, "sink.properties"), worker_config{});
  } catch (const config_exception& e) {
    return e.what();
  }
  return "";
}

std::string error_with(const std::string& extra) { return error_of(std::string(base_connector) + extra); }

} // namespace

TEST_CASE("config: the documentation's worker and connector files parse unchanged") {
  auto wp = parse_properties(read_file(STARPIPE_SOURCE_DIR "/conf/examples/connect-standalone.properties"), "worker");
  auto w = parse_worker_config(wp);
  CHECK(w.offset_flush_interval_ms == 10000);
  CHECK(w.value_converter.kind == converter_kind::json);
  CHECK_FALSE(w.value_converter.schemas_enable);
  CHECK(w.key_converter.schemas_enable);
  CHECK(w.warnings.size() == 2); // offset.storage.file.filename and plugin.path are said once
  auto cp = parse_properties(read_file(STARPIPE_SOURCE_DIR "/conf/examples/connect-StarRocks-sink.properties"), "c");
  auto c = parse_connector_config(cp, w);
  CHECK(c.name == "starrocks-kafka-connector");
  CHECK(c.topics == std::vector<std::string>{"test"});
  CHECK(c.table_for("test") == "test_tbl");
  CHECK(c.table_for("other") == "other");
  CHECK(c.fe_urls == std::vector<std::string>{"http://127.0.0.1:8030"});
  CHECK(c.username == "user1");
  CHECK(c.password == "123456");
  CHECK(c.group_id() == "connect-starrocks-kafka-connector");
  CHECK(c.load_properties.at("strip_outer_array") == "true");
  CHECK(c.load_properties.at("ignore_json_size") == "true");
  CHECK(c.load_properties.at("format") == "json");
  CHECK(c.warnings.empty());
}

TEST_CASE("config: defaults of the StarRocks connector") {
  auto c = parse("");
  CHECK(c.tasks_max == 1);
  CHECK(c.buffer_max_bytes == 67108864);
  CHECK(c.buffer_interval_ms == 1000);
  CHECK(c.connect_timeout_ms == 1000);
  CHECK(c.max_retries == 3);
  CHECK(c.format == load_format::json);
  CHECK(c.row_delimiter == "\n");
  CHECK(c.value_converter.kind == converter_kind::json); // worker default JsonConverter
  CHECK(c.value_converter.schemas_enable);
}

TEST_CASE("config: numeric keys accept their range and name it when refused") {
  CHECK(parse("bufferflush.maxbytes=67108864\n").buffer_max_bytes == 67108864);
  CHECK(parse("bufferflush.maxbytes=10737418240\n").buffer_max_bytes == 10737418240LL);
  CHECK(error_with("bufferflush.maxbytes=1000\n").find("bufferflush.maxbytes='1000': must be an integer in [67108864, 10737418240]") !=
        std::string::npos);
  CHECK(parse("bufferflush.intervalms=3600000\n").buffer_interval_ms == 3600000);
  CHECK(error_with("bufferflush.intervalms=999\n").find("[1000, 3600000]") != std::string::npos);
  CHECK(parse("connect.timeoutms=100\n").connect_timeout_ms == 100);
  CHECK(error_with("connect.timeoutms=60001\n").find("connect.timeoutms='60001': must be an integer in [100, 60000]") !=
        std::string::npos);
  CHECK(parse("sink.maxretries=-1\n").max_retries == -1);
  CHECK(error_with("sink.maxretries=-2\n").find("sink.maxretries") != std::string::npos);
  CHECK(error_with("tasks.max=0\n").find("tasks.max='0'") != std::string::npos);
  CHECK(error_with("tasks.max=abc\n").find("tasks.max='abc'") != std::string::npos);
  CHECK(parse("tasks.max=4\n").tasks_max == 4);
}

TEST_CASE("config: every bad key is reported together, with file and line") {
  std::string e = error_with("bufferflush.intervalms=1\nconnect.timeoutms=5\nsink.properties.format=xml\n");
  CHECK(e.find("sink.properties:8: bufferflush.intervalms='1'") != std::string::npos);
  CHECK(e.find("connect.timeoutms='5'") != std::string::npos);
  CHECK(e.find("sink.properties.format='xml': must be json or csv") != std::string::npos);
  CHECK(std::count(e.begin(), e.end(), '\n') == 2); // three lines
}

TEST_CASE("config: required keys") {
  std::string e = error_of("name=x\nconnector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\ntopics=t\n");
  CHECK(e.find("You must specify starrocks.http.url") != std::string::npos);
  CHECK(e.find("You must specify starrocks.database.name") != std::string::npos);
  CHECK(e.find("You must specify starrocks.username") != std::string::npos);
  CHECK(e.find("You must specify starrocks.password") != std::string::npos);
  CHECK(error_of("connector.class=x\n").find("You must specify name") != std::string::npos);
  CHECK(error_with("").empty());
}

TEST_CASE("config: topics and topics.regex are exclusive, one is needed") {
  CHECK(error_with("topics.regex=t.*\n").find("mutually exclusive") != std::string::npos);
  std::string no_topics = base_connector;
  no_topics.replace(no_topics.find("topics=test\n"), 12, "");
  CHECK(error_of(no_topics).find("Must configure one of topics or topics.regex") != std::string::npos);
  std::string regex_only = no_topics + "topics.regex=orders_.*\n";
  auto c = parse_connector_config(parse_properties(regex_only, "s"), worker_config{});
  CHECK(c.topics_regex == "orders_.*");
  CHECK(error_of(no_topics + "topics.regex=([\n").find("not a valid regular expression") != std::string::npos);
  CHECK(parse("topics=a, b ,c\n").topics == std::vector<std::string>{"a", "b", "c"});
  // java.util.Properties reads test\d+ as testd+: refused with the fix, not silently changed.
  std::string e = error_of(no_topics + "topics.regex=test\\d+\n");
  CHECK_MESSAGE(e.find("topics.regex") != std::string::npos, e);
  CHECK_MESSAGE(e.find("write '\\\\d'") != std::string::npos, e);
  CHECK(parse_connector_config(parse_properties(no_topics + "topics.regex=test\\\\d+\n", "s"), worker_config{})
            .topics_regex == "test\\d+");
  CHECK(error_of(no_topics + "topics.regex=(?<n>t)\n").find("named group") != std::string::npos);
}

TEST_CASE("config: topic2table map is validated instead of silently disabled") {
  auto c = parse("starrocks.topic2table.map=t1:tbl1, t2:db2.tbl2\n");
  CHECK(c.table_for("t1") == "tbl1");
  CHECK(c.table_for("t2") == "db2.tbl2");
  CHECK(error_with("starrocks.topic2table.map=t1\n").find("must be topic:table") != std::string::npos);
  CHECK(error_with("starrocks.topic2table.map=t1:\n").find("must be topic:table") != std::string::npos);
  CHECK(error_with("starrocks.topic2table.map=t1:a,t1:b\n").find("mapped twice") != std::string::npos);
  CHECK(error_with("starrocks.topic2table.map=t1:9bad\n").find("not a valid StarRocks table name") != std::string::npos);
}

TEST_CASE("config: FE urls with or without http://, several, and bad ones") {
  auto c = parse("starrocks.http.url=http://fe1:8030, fe2:8031/\n");
  CHECK(c.fe_urls == std::vector<std::string>{"http://fe1:8030", "http://fe2:8031"});
  CHECK(error_with("starrocks.http.url=fe1\n").find("'fe1' is not host:port") != std::string::npos);
  CHECK(error_with("starrocks.http.url=https://fe1:8030\n").find("is not host:port") != std::string::npos);
}

TEST_CASE("config: sink.properties are lower-cased headers; JSON needs strip_outer_array") {
  auto c = parse("sink.properties.Columns=a,b\nsink.properties.max_filter_ratio=0.1\n");
  CHECK(c.load_properties.at("columns") == "a,b");
  CHECK(c.load_properties.at("max_filter_ratio") == "0.1");
  CHECK(error_with("sink.properties.strip_outer_array=false\n").find("must be true") != std::string::npos);
  CHECK(error_with("sink.properties.label=x\n").find("set by starpipe") != std::string::npos);
}

TEST_CASE("config: CSV with StringConverter and hex row delimiters") {
  auto c = parse("sink.properties.format=CSV\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n"
                 "sink.properties.row_delimiter=\\\\x0D0A\n"); // a properties file needs \\x: Java reads \x as x
  CHECK(c.format == load_format::csv);
  CHECK(c.row_delimiter == "\r\n");
  CHECK(c.load_properties.count("strip_outer_array") == 0);
  CHECK(error_with("sink.properties.format=csv\n").find("StringConverter") != std::string::npos);
  CHECK(error_with("sink.properties.format=csv\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n"
                   "sink.properties.row_delimiter=\\\\x0\n")
            .find("even number of hex digits") != std::string::npos);
  CHECK(parse_delimiter("|") == "|");
  CHECK(parse_delimiter("\\x01") == std::string("\x01"));
}

TEST_CASE("config: converters override the worker's") {
  worker_config w;
  w.value_converter.schemas_enable = false;
  CHECK_FALSE(parse("", w).value_converter.schemas_enable);
  CHECK(parse("value.converter.schemas.enable=true\n", w).value_converter.schemas_enable);
  CHECK(error_with("value.converter=io.confluent.connect.avro.AvroConverter\n").find("unsupported converter") !=
        std::string::npos);
  CHECK(error_with("value.converter.schemas.enable=maybe\n").find("must be true or false") != std::string::npos);
}

TEST_CASE("config: unknown keys warn, never fail; passwords never shown") {
  auto c = parse("some.unknown.key=1\n");
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0].find("some.unknown.key") != std::string::npos);
  std::string e = error_of("name=x\nconnector.class=nope\ntopics=t\nstarrocks.http.url=h:1\nstarrocks.database.name=d\n"
                           "starrocks.username=u\nstarrocks.password=s3cret\n");
  CHECK(e.find("s3cret") == std::string::npos);
  CHECK(e.find("unsupported connector") != std::string::npos);
}

TEST_CASE("worker: consumer.* settings reach librdkafka, Java JAAS becomes sasl.username/password") {
  auto p = parse_properties(
      "bootstrap.servers=b:9092\nconsumer.security.protocol=SASL_SSL\nconsumer.sasl.mechanism=PLAIN\n"
      "consumer.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
      "username=\"KEY\" password=\"SECRET\";\nconsumer.max.poll.records=500\nconsumer.fetch.min.bytes=1\n",
      "w");
  auto w = parse_worker_config(p);
  CHECK(w.consumer_settings.at("security.protocol") == "SASL_SSL");
  CHECK(w.consumer_settings.at("sasl.username") == "KEY");
  CHECK(w.consumer_settings.at("sasl.password") == "SECRET");
  CHECK(w.consumer_settings.at("fetch.min.bytes") == "1");
  CHECK(w.consumer_settings.count("max.poll.records") == 0);
  bool warned = false;
  for (const auto& x : w.warnings) warned = warned || x.find("max.poll.records") != std::string::npos;
  CHECK(warned);
  try {
    parse_worker_config(parse_properties("consumer.auto.offset.reset=sometimes\n", "w"));
    FAIL("expected an error");
  } catch (const config_exception& e) {
    CHECK(std::string(e.what()).find("consumer.auto.offset.reset") != std::string::npos);
  }
}

TEST_CASE("worker: connector keys in the worker file are said to have no effect") {
  auto w = parse_worker_config(parse_properties("bufferflush.maxbytes = xxx\noffset.flush.interval.ms=10000\n", "w"));
  REQUIRE(w.warnings.size() == 1);
  CHECK(w.warnings[0].find("no effect") != std::string::npos);
  CHECK_THROWS_AS(parse_worker_config(parse_properties("offset.flush.interval.ms=0\n", "w")), config_exception);
}

TEST_CASE("config providers: ${file:...} and ${env:...} resolve; secrets never appear in errors") {
  {
    std::ofstream f("/tmp/starpipe-secrets.properties");
    f << "sr.password=from-file\n";
  }
  setenv("STARPIPE_TEST_SR_USER", "env-user", 1);
  auto w = parse_worker_config(parse_properties(
      "config.providers=file,env\n"
      "config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n"
      "config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider\n",
      "worker"));
  std::string text = std::string(base_connector);
  text.replace(text.find("starrocks.username=root\n"), 24, "starrocks.username=${env:STARPIPE_TEST_SR_USER}\n");
  text.replace(text.find("starrocks.password=\n"), 20,
               "starrocks.password=${file:/tmp/starpipe-secrets.properties:sr.password}\n");
  auto c = parse_connector_config(parse_properties(text, "sink.properties"), w);
  CHECK(c.username == "env-user");
  CHECK(c.password == "from-file");
  CHECK(c.raw.at("starrocks.password") == "${file:/tmp/starpipe-secrets.properties:sr.password}"); // as written
  // an undeclared provider is left alone
  auto plain = parse(std::string("sink.properties.columns=${vault:x:y}\n"));
  CHECK(plain.load_properties.at("columns") == "${vault:x:y}");
  // a missing key names the config key, never a secret
  std::string bad = text;
  bad.replace(bad.find("sr.password}"), 12, "nope}");
  try {
    parse_connector_config(parse_properties(bad, "sink.properties"), w);
    FAIL("expected an error");
  } catch (const config_exception& e) {
    std::string msg = e.what();
    CHECK(msg.find("starrocks.password") != std::string::npos);
    CHECK(msg.find("key nope not found in /tmp/starpipe-secrets.properties") != std::string::npos);
    CHECK(msg.find("from-file") == std::string::npos);
  }
  CHECK_THROWS_AS(parse_worker_config(parse_properties("config.providers=x\nconfig.providers.x.class=com.Nope\n", "w")),
                  config_exception);
  std::remove("/tmp/starpipe-secrets.properties");
}

TEST_CASE("connector config: exactly-once and the Flink connector's sink options") {
  auto c = parse("sink.semantic=exactly-once\nsink.label-prefix=orders_eo\nsink.buffer-flush.max-bytes=94371840\n"
                 "sink.buffer-flush.interval-ms=5000\nsink.max-retries=5\nsink.connect.timeout-ms=2000\n"
                 "sink.wait-for-continue.timeout-ms=4000\nsink.buffer-flush.max-rows=64000\n");
  CHECK(c.semantic == delivery::exactly_once);
  CHECK(c.version == load_interface::automatic);
  CHECK(c.label_prefix == "orders_eo");
  CHECK(c.buffer_max_bytes == 94371840);
  CHECK(c.buffer_interval_ms == 5000);
  CHECK(c.max_retries == 5);
  CHECK(c.connect_timeout_ms == 2000);
  CHECK(c.wait_for_continue_ms == 4000);
  CHECK(c.buffer_max_rows == 64000);
  CHECK(parse("").label_prefix == "starpipe-sr");
  CHECK(parse("").semantic == delivery::at_least_once);

  CHECK(error_with("sink.semantic=exactly_once\n").find("sink.semantic") != std::string::npos);
  CHECK(error_with("sink.version=V3\n").find("must be V1, V2 or AUTO") != std::string::npos);
  CHECK(error_with("sink.semantic=exactly-once\nsink.version=V1\n").find("V1 cannot give exactly-once") !=
        std::string::npos);
  CHECK(error_with("sink.label-prefix=has space\n").find("sink.label-prefix") != std::string::npos);
  CHECK(error_with("sink.max-retries=11\n").find("sink.max-retries") != std::string::npos);
  CHECK(error_with("sink.max-retries=11\n").find("10") != std::string::npos); // the range is in the message
  CHECK(error_with("bufferflush.intervalms=2000\nsink.buffer-flush.interval-ms=3000\n").find("conflicts with") !=
        std::string::npos);
  CHECK(error_with("sink.wait-for-continue.timeout-ms=100\n").find("sink.wait-for-continue.timeout-ms") !=
        std::string::npos);
}

TEST_CASE("connector config: per-table sink.properties and partial updates") {
  auto c = parse("sink.properties.columns=id,name\nsink.properties.score_board.partial_update=true\n"
                 "sink.properties.score_board.columns=id,name,__op\n");
  auto sb = c.load_properties_for("score_board");
  CHECK(sb["partial_update"] == "true");
  CHECK(sb["columns"] == "id,name,__op");
  CHECK(sb["format"] == "json");
  CHECK(c.load_properties_for("other")["columns"] == "id,name");
  CHECK(c.load_properties_for("other").count("partial_update") == 0);
  CHECK(error_with("sink.properties.partial_update=true\n").find("sink.properties.columns") != std::string::npos);
  CHECK(error_with("sink.properties.t1.format=csv\n").find("per connector") != std::string::npos);
}

TEST_CASE("config: connector names Kafka Connect refuses are refused, with the bytes shown escaped") {
  auto with_name = [](const std::string& name) {
    std::string text = base_connector;
    text.replace(0, std::string("name=sr").size(), "name=" + name);
    return error_of(text);
  };
  std::string e = with_name(std::string("a\\u0000b"));
  CHECK_MESSAGE(e.find("name='a\\x00b'") != std::string::npos, e);
  CHECK(e.find("control sequences but had the following ASCII chars: 0") != std::string::npos);
  CHECK(with_name("a\\tb").find("ASCII chars: 9") != std::string::npos);
  CHECK(with_name("caf\xc3\xa9").empty()); // UTF-8 is fine
  CHECK(with_name("a\xff" "b").find("is not valid UTF-8 (byte 0xff at 1)") != std::string::npos);
  CHECK(with_name("a\xc0\xaf").find("not valid UTF-8") != std::string::npos); // overlong '/'
  CHECK(connector_name_problem("a\xed\xa0\x80").has_value());         // a UTF-16 surrogate
}

TEST_CASE("config: a source connector's file gets one error that says what it is") {
  std::string e = error_of("name=pg\nconnector.class=io.debezium.connector.postgresql.PostgresConnector\n"
                           "plugin.name=pgoutput\ndatabase.hostname=localhost\ntopic.prefix=test\n");
  CHECK_MESSAGE(e.find("is a source connector") != std::string::npos, e);
  CHECK(std::count(e.begin(), e.end(), '\n') == 0); // one line, not a sink's missing keys
}

TEST_CASE("config: each standalone task is a static group member with its own id; consumer.* overrides it") {
  auto c = parse("tasks.max=2\n");
  worker_config standalone = parse_worker_config(parse_properties("bootstrap.servers=k:9092\nlisteners=http://127.0.0.1:8099\n", "w"));
  auto t0 = task_consumer_settings(c, standalone, 0, {});
  auto t1 = task_consumer_settings(c, standalone, 1, {});
  REQUIRE(t0.count("group.instance.id"));
  CHECK(t0["group.instance.id"] != t1["group.instance.id"]);
  CHECK(t0["group.instance.id"].find(":8099-sr-0") != std::string::npos);
  CHECK(t0["group.id"] == "connect-sr");
  // Distributed workers hand partitions over on a stop, which a static member never does.
  worker_config distributed = parse_worker_config(
      parse_properties("bootstrap.servers=k:9092\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\n"
                       "status.storage.topic=s\n", "w"),
      worker_mode::distributed);
  CHECK_FALSE(task_consumer_settings(c, distributed, 0, {}).count("group.instance.id"));
  // The worker names itself: every task still gets its own id.
  worker_config named = parse_worker_config(parse_properties("bootstrap.servers=k:9092\nconsumer.group.instance.id=w7\n", "w"));
  CHECK(task_consumer_settings(c, named, 1, {})["group.instance.id"] == "w7-sr-1");
  // Empty: off.
  worker_config off = parse_worker_config(parse_properties("bootstrap.servers=k:9092\nconsumer.group.instance.id=\n", "w"));
  CHECK_FALSE(task_consumer_settings(c, off, 0, {}).count("group.instance.id"));
}
