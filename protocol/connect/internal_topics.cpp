#include "protocol/connect/internal_topics.h"
#include "protocol/connect/json_scan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace starpipe::connect {

using json = nlohmann::json;

namespace {

const std::string connector_prefix = "connector-";
const std::string target_prefix = "target-state-";
const std::string restart_prefix = "restart-connector-";
// Kafka Connect keys a status by connector and task; starpipe's tasks live on every worker,
// so a status is one worker's instance of a connector: status-connector-<n>@<worker>.
const std::string status_prefix = "status-connector-";

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

} // namespace

const char* to_string(target_state s) {
  switch (s) {
  case target_state::started: return "STARTED";
  case target_state::paused: return "PAUSED";
  case target_state::stopped: return "STOPPED";
  }
  return "STARTED";
}

std::optional<target_state> parse_target_state(const std::string& s) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "STARTED" || u == "RUNNING") return target_state::started;
  if (u == "PAUSED") return target_state::paused;
  if (u == "STOPPED") return target_state::stopped;
  return std::nullopt;
}

stored_record connector_config_record(const std::string& name, const std::map<std::string, std::string>& config) {
  json props = json::object();
  for (const auto& [k, v] : config) props[k] = v;
  return {connector_prefix + name, json{{"properties", props}}.dump()};
}

stored_record connector_tombstone(const std::string& name) { return {connector_prefix + name, std::nullopt}; }

stored_record target_state_record(const std::string& name, target_state s) {
  // As Kafka Connect 3.5+: "state" stays readable by older workers (which know no STOPPED).
  const char* legacy = s == target_state::stopped ? "PAUSED" : to_string(s);
  return {target_prefix + name, json{{"state", legacy}, {"state.v2", to_string(s)}}.dump()};
}

stored_record target_state_tombstone(const std::string& name) { return {target_prefix + name, std::nullopt}; }

stored_record restart_record(const restart_request& r) {
  json j{{"include-tasks", r.include_tasks}, {"only-failed", r.only_failed}};
  if (!r.worker_id.empty()) j["worker_id"] = r.worker_id;
  return {restart_prefix + r.connector, j.dump()};
}

std::optional<stored_connector> cluster_config::get(const std::string& name) const {
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return std::nullopt;
  return it->second;
}

std::optional<restart_request> cluster_config::apply(const stored_record& r, std::string& problem) {
  problem.clear();
  json doc;
  if (r.value) {
    if (!nested_deeper_than(*r.value)) doc = json::parse(*r.value, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      problem = "record " + r.key + " is not a JSON object";
      return std::nullopt;
    }
  }
  if (starts_with(r.key, connector_prefix)) {
    std::string name = r.key.substr(connector_prefix.size());
    if (!r.value) {
      connectors_.erase(name);
      return std::nullopt;
    }
    auto props = doc.find("properties");
    if (props == doc.end() || !props->is_object()) {
      problem = "record " + r.key + " has no \"properties\" object";
      return std::nullopt;
    }
    stored_connector c;
    for (auto it = props->begin(); it != props->end(); ++it) {
      if (!it.value().is_string()) {
        problem = "record " + r.key + ": property " + it.key() + " is not a string";
        return std::nullopt;
      }
      c.config[it.key()] = it.value().get<std::string>();
    }
    auto ts = target_states_.find(name);
    c.target = ts == target_states_.end() ? target_state::started : ts->second;
    connectors_[name] = std::move(c);
    return std::nullopt;
  }
  if (starts_with(r.key, target_prefix)) {
    std::string name = r.key.substr(target_prefix.size());
    if (!r.value) {
      target_states_.erase(name);
      return std::nullopt;
    }
    std::optional<target_state> s;
    for (const char* field : {"state.v2", "state"}) {
      auto it = doc.find(field);
      if (it != doc.end() && it->is_string()) {
        s = parse_target_state(it->get<std::string>());
        if (s) break;
      }
    }
    if (!s) {
      problem = "record " + r.key + " names no known state";
      return std::nullopt;
    }
    target_states_[name] = *s;
    if (auto c = connectors_.find(name); c != connectors_.end()) c->second.target = *s;
    return std::nullopt;
  }
  if (starts_with(r.key, restart_prefix)) {
    if (!r.value) return std::nullopt;
    restart_request req;
    req.connector = r.key.substr(restart_prefix.size());
    req.include_tasks = doc.value("include-tasks", false);
    req.only_failed = doc.value("only-failed", false);
    req.worker_id = doc.value("worker_id", std::string());
    return req;
  }
  // task-*, commit-*, session-key, logger-cluster-*: written by Kafka Connect workers;
  // starpipe has no use for them.
  return std::nullopt;
}

bool is_status_key(const std::string& key) { return starts_with(key, status_prefix) && key.find('@') != std::string::npos; }

stored_record status_record(const worker_status& s) {
  json tasks = json::array();
  for (const auto& t : s.tasks) {
    json jt{{"id", t.id}, {"state", t.state}};
    if (!t.trace.empty()) jt["trace"] = t.trace;
    tasks.push_back(jt);
  }
  json j{{"connector", s.connector}, {"worker_id", s.worker_id}, {"state", s.state},  {"trace", s.trace},
         {"tasks", tasks},           {"topics", s.topics},       {"generation", s.generation}, {"time_ms", s.time_ms}};
  return {status_prefix + s.connector + "@" + s.worker_id, j.dump()};
}

stored_record status_tombstone(const std::string& connector, const std::string& worker_id) {
  return {status_prefix + connector + "@" + worker_id, std::nullopt};
}

std::optional<worker_status> parse_status(const stored_record& r, std::string& problem) {
  problem.clear();
  if (!is_status_key(r.key) || !r.value) return std::nullopt;
  auto doc = nested_deeper_than(*r.value) ? json() : json::parse(*r.value, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem = "status record " + r.key + " is not a JSON object";
    return std::nullopt;
  }
  try {
    worker_status s;
    s.connector = doc.at("connector").get<std::string>();
    s.worker_id = doc.at("worker_id").get<std::string>();
    s.state = doc.at("state").get<std::string>();
    s.trace = doc.value("trace", std::string());
    for (const auto& t : doc.at("tasks")) {
      pipelines::task_status ts;
      ts.id = t.at("id").get<int>();
      ts.state = t.at("state").get<std::string>();
      ts.trace = t.value("trace", std::string());
      s.tasks.push_back(ts);
    }
    if (auto it = doc.find("topics"); it != doc.end() && it->is_array())
      for (const auto& t : *it)
        if (t.is_string()) s.topics.push_back(t.get<std::string>());
    s.generation = doc.value("generation", int64_t{0});
    s.time_ms = doc.value("time_ms", int64_t{0});
    return s;
  } catch (const json::exception& e) {
    problem = "status record " + r.key + ": " + e.what();
    return std::nullopt;
  }
}

std::vector<pipelines::connector_view> merge_views(const cluster_config& config,
                                                   const std::map<std::string, worker_status>& statuses,
                                                   int64_t now_ms, int64_t expiry_ms) {
  std::map<std::string, std::vector<const worker_status*>> live; // by connector, in worker order
  for (const auto& [key, s] : statuses)
    if (now_ms - s.time_ms <= expiry_ms) live[s.connector].push_back(&s);
  std::vector<pipelines::connector_view> out;
  for (const auto& [name, c] : config.connectors()) {
    pipelines::connector_view v;
    v.name = name;
    v.config = c.config;
    auto& reports = live[name];
    std::sort(reports.begin(), reports.end(),
              [](const worker_status* a, const worker_status* b) { return a->worker_id < b->worker_id; });
    int next_id = 0;
    for (const auto* s : reports) {
      for (auto t : s->tasks) {
        t.id = next_id++;
        t.worker_id = s->worker_id;
        v.tasks.push_back(std::move(t));
      }
      v.topics.insert(s->topics.begin(), s->topics.end());
    }
    if (c.target == target_state::stopped) {
      // A stopped connector has no tasks, in Kafka Connect as here.
      v.state = "STOPPED";
      v.tasks.clear();
      v.worker_id = reports.empty() ? "" : reports.front()->worker_id;
    } else if (reports.empty()) {
      v.state = "UNASSIGNED";
    } else {
      // A failure anywhere is what an operator must see first.
      const worker_status* shown = reports.front();
      for (const auto* s : reports)
        if (s->state == "FAILED") {
          shown = s;
          break;
        }
      v.state = shown->state;
      v.trace = shown->trace;
      v.worker_id = shown->worker_id;
    }
    out.push_back(std::move(v));
  }
  return out;
}

} // namespace starpipe::connect
