// Distributed mode's records in the config and status topics, and the merged cluster view.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "protocol/connect/internal_topics.h"

using namespace starpipe::connect;

namespace {
cluster_config apply_all(const std::vector<stored_record>& records) {
  cluster_config c;
  std::string problem;
  for (const auto& r : records) {
    c.apply(r, problem);
    REQUIRE(problem.empty());
  }
  return c;
}
} // namespace

TEST_CASE("internal topics: config records use Kafka Connect's keys and values") {
  auto r = connector_config_record("sink", {{"name", "sink"}, {"topics", "t"}});
  CHECK(r.key == "connector-sink");
  CHECK(nlohmann::json::parse(*r.value) == nlohmann::json::parse(R"({"properties":{"name":"sink","topics":"t"}})"));
  auto stopped = target_state_record("sink", target_state::stopped);
  CHECK(stopped.key == "target-state-sink");
  // Older workers read "state" and know no STOPPED.
  CHECK(nlohmann::json::parse(*stopped.value) == nlohmann::json::parse(R"({"state":"PAUSED","state.v2":"STOPPED"})"));
  CHECK(!connector_tombstone("sink").value);
  CHECK(restart_record({"sink", true, false, ""}).key == "restart-connector-sink");
}

TEST_CASE("internal topics: the config topic folds into connectors, target states and deletions") {
  auto c = apply_all({connector_config_record("a", {{"k", "1"}}), target_state_record("a", target_state::paused),
                      connector_config_record("b", {{"k", "2"}}), connector_config_record("a", {{"k", "3"}})});
  REQUIRE(c.connectors().size() == 2);
  CHECK(c.get("a")->config.at("k") == "3");
  CHECK(c.get("a")->target == target_state::paused); // a config update keeps the target state
  CHECK(c.get("b")->target == target_state::started);
  std::string problem;
  c.apply(connector_tombstone("a"), problem);
  CHECK(!c.get("a"));
  // A target state written before its connector (or read from an older worker's "state") applies.
  c.apply({"target-state-z", std::string(R"({"state":"PAUSED"})")}, problem);
  c.apply(connector_config_record("z", {}), problem);
  CHECK(c.get("z")->target == target_state::paused);
}

TEST_CASE("internal topics: restart requests are returned, bad records are skipped with a reason") {
  cluster_config c;
  std::string problem;
  auto r = c.apply(restart_record({"a", true, true, "h:1"}), problem);
  REQUIRE(r);
  CHECK(r->connector == "a");
  CHECK(r->include_tasks);
  CHECK(r->only_failed);
  CHECK(r->worker_id == "h:1");
  CHECK(!c.apply({"connector-x", std::string("{not json")}, problem));
  CHECK(problem.find("connector-x") != std::string::npos);
  c.apply({"connector-x", std::string(R"({"properties":{"n":1}})")}, problem);
  CHECK(problem.find("not a string") != std::string::npos);
  CHECK(!c.get("x"));
  c.apply({"session-key", std::string(R"({"key":"abc"})")}, problem); // Kafka Connect's own: ignored
  CHECK(problem.empty());
}

TEST_CASE("internal topics: status records round-trip") {
  worker_status s;
  s.connector = "sink";
  s.worker_id = "10.0.0.1:8083";
  s.state = "RUNNING";
  s.tasks = {{0, "FAILED", "boom", ""}, {1, "RUNNING", "", ""}};
  s.topics = {"t"};
  s.time_ms = 42;
  auto r = status_record(s);
  CHECK(r.key == "status-connector-sink@10.0.0.1:8083");
  CHECK(is_status_key(r.key));
  CHECK(!is_status_key("status-task-sink-0")); // a Kafka Connect worker's record
  std::string problem;
  auto back = parse_status(r, problem);
  REQUIRE(back);
  CHECK(back->tasks.size() == 2);
  CHECK(back->tasks[0].trace == "boom");
  CHECK(back->time_ms == 42);
  CHECK(!parse_status({r.key, std::string("[]")}, problem));
  CHECK(!problem.empty());
}

TEST_CASE("internal topics: merged views number tasks across live workers and drop dead ones") {
  auto c = apply_all({connector_config_record("sink", {{"name", "sink"}}), connector_config_record("idle", {})});
  std::map<std::string, worker_status> statuses;
  auto add = [&](const std::string& worker, int64_t time, const std::string& task_state) {
    worker_status s;
    s.connector = "sink";
    s.worker_id = worker;
    s.state = "RUNNING";
    s.tasks = {{0, task_state, task_state == "FAILED" ? "why" : "", ""}};
    s.time_ms = time;
    statuses[status_record(s).key] = s;
  };
  add("b:2", 1000, "RUNNING");
  add("a:1", 1000, "FAILED");
  add("dead:3", 100, "RUNNING");
  auto views = merge_views(c, statuses, 1500, 1000);
  REQUIRE(views.size() == 2);
  const auto& idle = views[0];
  CHECK(idle.name == "idle");
  CHECK(idle.state == "UNASSIGNED");
  const auto& v = views[1];
  REQUIRE(v.tasks.size() == 2); // dead:3 expired
  CHECK(v.tasks[0].id == 0);
  CHECK(v.tasks[0].worker_id == "a:1");
  CHECK(v.tasks[0].state == "FAILED");
  CHECK(v.tasks[1].id == 1);
  CHECK(v.tasks[1].worker_id == "b:2");
  CHECK(v.state == "RUNNING");

  std::string problem;
  c.apply(target_state_record("sink", target_state::stopped), problem);
  auto stopped = merge_views(c, statuses, 1500, 1000)[1];
  CHECK(stopped.state == "STOPPED");
  CHECK(stopped.tasks.empty());
}
