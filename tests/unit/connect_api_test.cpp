// The REST API's request validation and write paths, against a recording admin: what reaches
// the cluster, and what never does.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "protocol/rest/connect_api.h"
#include "tests/unit/recording_admin.h"

using namespace starpipe;
using json = nlohmann::json;

namespace {

json valid_config() {
  return json{{"connector.class", "com.starrocks.connector.kafka.StarRocksSinkConnector"},
              {"topics", "t"},
              {"starrocks.http.url", "127.0.0.1:8030"},
              {"starrocks.database.name", "d"},
              {"starrocks.username", "root"},
              {"starrocks.password", "pw"}};
}

struct fixture {
  pipelines::connector_registry registry;
  recording_admin admin;
  rest::api_context ctx;
  fixture() {
    ctx.registry = &registry;
    ctx.admin = &admin;
    ctx.worker_id = "127.0.0.1:8083";
    pipelines::connector_view v;
    v.name = "existing";
    v.state = "RUNNING";
    v.tasks = {{0, "FAILED", "boom", "w1:1"}, {1, "RUNNING", "", "w2:2"}};
    registry.put(v);
  }
  rest::response call(const std::string& method, const std::string& target, const std::string& body = "") {
    return rest::handle({method, target, body}, ctx);
  }
};

} // namespace

TEST_CASE("REST: POST /connectors validates everything before anything is written") {
  fixture f;
  auto bad = valid_config();
  bad["bufferflush.intervalms"] = "5";
  bad["sink.maxretries"] = "x";
  auto r = f.call("POST", "/connectors", json{{"name", "s"}, {"config", bad}}.dump());
  CHECK(r.status == 400);
  auto msg = json::parse(r.body)["message"].get<std::string>();
  CHECK(msg.find("contains the following 2 error(s)") != std::string::npos);
  CHECK(msg.find("bufferflush.intervalms") != std::string::npos);
  CHECK(msg.find("sink.maxretries") != std::string::npos);
  CHECK(f.call("POST", "/connectors", "{\"name\":").status == 400);
  CHECK(f.call("POST", "/connectors", "[]").status == 400);
  CHECK(f.call("POST", "/connectors", json{{"config", valid_config()}}.dump()).status == 400);
  CHECK(f.call("POST", "/connectors", json{{"name", "s"}, {"config", {{"a", {{"nested", 1}}}}}}.dump()).status == 400);
  CHECK(f.call("POST", "/connectors", json{{"name", "s"}, {"config", {{"topics", "t"}}}}.dump()).status == 400);
  auto mismatch = valid_config();
  mismatch["name"] = "other";
  CHECK(f.call("POST", "/connectors", json{{"name", "s"}, {"config", mismatch}}.dump()).status == 400);
  CHECK(f.call("POST", "/connectors", json{{"name", "s"}, {"config", valid_config()}, {"initial_state", "SLEEPING"}}.dump())
            .status == 400);
  CHECK(f.admin.calls.empty());
}

TEST_CASE("REST: POST /connectors creates with the name inserted, 201 and Location") {
  fixture f;
  auto r = f.call("POST", "/connectors",
                  json{{"name", "  s  "}, {"config", valid_config()}, {"initial_state", "paused"}}.dump());
  CHECK(r.status == 201);
  CHECK(r.location == "/connectors/s");
  CHECK(json::parse(r.body)["config"]["name"] == "s");
  REQUIRE(f.admin.calls.size() == 1);
  CHECK(f.admin.calls[0] == "put s create PAUSED");
  CHECK(f.admin.last_config.at("name") == "s");
  f.admin.next = {409, "Connector s already exists", ""};
  f.admin.calls.clear();
  r = f.call("POST", "/connectors", json{{"name", "s"}, {"config", valid_config()}}.dump());
  // the admin's 409 passes through in Kafka Connect's error shape
  f.admin.next = {409, "Connector s already exists", ""};
  auto put = f.call("PUT", "/connectors/s/config", valid_config().dump());
  CHECK(put.status == 409);
  CHECK(json::parse(put.body) == json{{"error_code", 409}, {"message", "Connector s already exists"}});
}

TEST_CASE("REST: PUT config, pause, resume, stop, delete, restart reach the admin") {
  fixture f;
  CHECK(f.call("PUT", "/connectors/existing/config", valid_config().dump()).status == 200);
  auto wrong = valid_config();
  wrong["name"] = "x";
  CHECK(f.call("PUT", "/connectors/existing/config", wrong.dump()).status == 400);
  CHECK(f.call("PUT", "/connectors/existing/pause").status == 202);
  CHECK(f.call("PUT", "/connectors/existing/resume").status == 202);
  CHECK(f.call("PUT", "/connectors/existing/stop").status == 204);
  CHECK(f.call("POST", "/connectors/existing/restart").status == 204);
  auto r = f.call("POST", "/connectors/existing/restart?includeTasks=true&onlyFailed=true");
  CHECK(r.status == 202);
  auto status = json::parse(r.body);
  CHECK(status["tasks"][0]["state"] == "RESTARTING"); // the failed one
  CHECK(status["tasks"][1]["state"] == "RUNNING");
  CHECK(f.call("POST", "/connectors/existing/tasks/1/restart").status == 204);
  CHECK(f.call("POST", "/connectors/existing/tasks/9/restart").status == 404);
  CHECK(f.call("DELETE", "/connectors/existing").status == 204);
  CHECK(f.call("GET", "/connectors/existing/offsets").body == R"({"offsets":[]})");
  std::vector<std::string> expected = {"put existing",
                                       "state existing PAUSED",
                                       "state existing STARTED",
                                       "state existing STOPPED",
                                       "restart existing",
                                       "restart existing tasks failed",
                                       "restart existing tasks on w2:2",
                                       "delete existing",
                                       "offsets existing"};
  CHECK(f.admin.calls == expected);
}

TEST_CASE("REST: unknown connectors are 404 in Kafka Connect's words; a starting worker is 503") {
  fixture f;
  CHECK(json::parse(f.call("PUT", "/connectors/nope/pause").body)["message"] == "Unknown connector nope");
  CHECK(json::parse(f.call("DELETE", "/connectors/nope").body)["message"] == "Connector nope not found");
  CHECK(f.call("POST", "/connectors/nope/restart").status == 404);
  CHECK(f.admin.calls.empty());
  CHECK(f.call("PATCH", "/connectors/existing").status == 405);
  f.admin.is_ready = false;
  CHECK(f.call("GET", "/connectors").status == 503);
  CHECK(f.call("GET", "/health").status == 503);
  CHECK(f.call("GET", "/").status == 200);
}

TEST_CASE("REST: without an admin (standalone) writes are 405") {
  fixture f;
  f.ctx.admin = nullptr;
  CHECK(f.call("POST", "/connectors", json{{"name", "s"}, {"config", valid_config()}}.dump()).status == 405);
  CHECK(f.call("PUT", "/connectors/existing/pause").status == 405);
  CHECK(f.call("DELETE", "/connectors/existing").status == 405);
  CHECK(f.call("GET", "/connectors/existing/status").status == 200);
}

TEST_CASE("/metrics: each connector's series, per task where they are per task") {
  pipelines::connector_registry registry;
  pipelines::connector_view v;
  v.name = "c";
  v.state = "RUNNING";
  v.tasks = {{0, "RUNNING", "", ""}, {1, "FAILED", "boom", ""}};
  v.metrics.total_flush_rows = 42;
  v.metrics.credit_pauses = 3;
  v.metrics.credit_resumes = 2;
  v.metrics.task_partitions = {{0, 4}, {1, 0}};
  v.metrics.task_lag = {{0, 7}};
  registry.put(v);
  auto text = rest::prometheus_metrics(registry);
  for (const char* series : {"starpipe_total_flush_rows{connector=\"c\"} 42\n",
                             "starpipe_credit_pauses_total{connector=\"c\"} 3\n",
                             "starpipe_credit_resumes_total{connector=\"c\"} 2\n",
                             "starpipe_task_partitions{connector=\"c\",task=\"0\"} 4\n",
                             "starpipe_task_partitions{connector=\"c\",task=\"1\"} 0\n",
                             "starpipe_task_consumer_lag{connector=\"c\",task=\"0\"} 7\n",
                             "starpipe_task_running{connector=\"c\",task=\"1\",state=\"FAILED\"} 0\n",
                             "# TYPE starpipe_credit_pauses_total counter\n"})
    CHECK_MESSAGE(text.find(series) != std::string::npos, series);
}
