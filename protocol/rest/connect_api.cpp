#include "protocol/rest/connect_api.h"

#include "conf/key_tables.h"
#include "protocol/connect/json_scan.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <set>
#include <sstream>

#include "conf/connector_config.h"
#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/transforms/registry.h"

namespace starpipe::rest {

using json = nlohmann::ordered_json;

namespace {

response error(int status, const std::string& message) {
  json j;
  j["error_code"] = status;
  j["message"] = message;
  return {status, j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json"};
}

response ok(const json& j, int status = 200) { return {status, j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json"}; }

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string p;
  while (std::getline(ss, p, '/'))
    if (!p.empty()) parts.push_back(percent_decode(p));
  return parts;
}

std::multimap<std::string, std::string> query_of(const std::string& target) {
  std::multimap<std::string, std::string> q;
  auto pos = target.find('?');
  if (pos == std::string::npos) return q;
  std::stringstream ss(target.substr(pos + 1));
  std::string kv;
  while (std::getline(ss, kv, '&')) {
    auto eq = kv.find('=');
    q.emplace(percent_decode(kv.substr(0, eq)), eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1)));
  }
  return q;
}

json info_of(const pipelines::connector_view& v) {
  json j;
  j["name"] = v.name;
  j["config"] = json::object();
  for (const auto& [k, val] : v.config) j["config"][k] = val;
  j["tasks"] = json::array();
  for (const auto& t : v.tasks) j["tasks"].push_back(json{{"connector", v.name}, {"task", t.id}});
  j["type"] = "sink";
  return j;
}

json task_state_of(const pipelines::task_status& t, const std::string& worker) {
  json j;
  j["id"] = t.id;
  j["state"] = t.state;
  j["worker_id"] = t.worker_id.empty() ? worker : t.worker_id;
  if (!t.trace.empty()) j["trace"] = t.trace; // omitted, not null, when empty
  return j;
}

json status_of(const pipelines::connector_view& v, const std::string& worker) {
  json j;
  j["name"] = v.name;
  j["connector"] = json{{"state", v.state}, {"worker_id", v.worker_id.empty() ? worker : v.worker_id}};
  if (!v.trace.empty()) j["connector"]["trace"] = v.trace;
  j["tasks"] = json::array();
  for (const auto& t : v.tasks) j["tasks"].push_back(task_state_of(t, worker));
  j["type"] = "sink";
  return j;
}

json plugins(bool connectors_only) {
  json out = json::array();
  out.push_back(json{{"class", "com.starrocks.connector.kafka.StarRocksSinkConnector"}, {"type", "sink"}, {"version", "1.0.4"}});
  if (connectors_only) return out;
  // From the registries the configuration reads, so the list is what starpipe accepts.
  for (const auto& t : transforms::transform_plugins())
    out.push_back(json{{"class", t.class_name}, {"type", "transformation"}});
  for (const auto& p : transforms::predicate_plugins())
    out.push_back(json{{"class", p.class_name}, {"type", "predicate"}});
  for (const auto& c : connect::converter_plugins()) out.push_back(json{{"class", c.class_name}, {"type", "converter"}});
  return out;
}

// The keys of each transform alias and predicate the config names, described from their
// class's option table, grouped as Kafka Connect groups them ("Transforms: <alias>").
struct plugin_keys {
  plugin_keys() = default;
  plugin_keys(const plugin_keys&) = delete; // by_key points into synthesized
  plugin_keys(plugin_keys&&) = default;     // a deque's move keeps its elements in place
  std::deque<conf::key_def> synthesized; // type, predicate, negate: stable addresses
  std::map<std::string, std::pair<const conf::key_def*, std::string>> by_key; // key -> (def, group)
  std::vector<std::string> order, groups;

  void add(const std::string& key, const conf::key_def* d, const std::string& group) {
    if (by_key.emplace(key, std::make_pair(d, group)).second) order.push_back(key);
  }
  // A key the config syntax gives every alias (type, predicate, negate), not its class.
  void define(conf::key_def d, const std::string& group) {
    synthesized.push_back(std::move(d));
    add(synthesized.back().name, &synthesized.back(), group);
  }
  // `<kind>s.<name>.type` and the options of the class it names.
  template <class Plugin>
  void section(const std::string& kind, const std::string& name, const std::string& group, const Plugin* plugin) {
    const std::string prefix = kind + "s." + name + ".";
    groups.push_back(group);
    const char* noun = kind == "transform" ? "transformation" : "predicate"; // Kafka Connect's words
    define(conf::required_key(prefix + "type", "Class for the '" + name + "' " + noun + ".", conf::key_type::class_),
           group);
    if (kind == "transform") {
      define(conf::string_key(prefix + "predicate", "",
                              "The alias of a predicate used to determine whether to apply this transformation."),
             group);
      define(conf::bool_key(prefix + "negate", false, "Whether the configured predicate should be negated."), group);
    }
    if (!plugin || !plugin->options) return;
    for (const auto& o : plugin->options->keys()) add(prefix + o.name, &o, group);
  }
};

plugin_keys transform_keys_of(const conf::properties& p) {
  plugin_keys out;
  for (const auto& alias : conf::split_list(p.get("transforms").value_or("")))
    out.section("transform", alias, "Transforms: " + alias,
                transforms::find_transform(p.get("transforms." + alias + ".type").value_or("")));
  for (const auto& name : conf::split_list(p.get("predicates").value_or("")))
    out.section("predicate", name, "Predicates: " + name,
                transforms::find_predicate(p.get("predicates." + name + ".type").value_or("")));
  return out;
}

// PUT /connector-plugins/{plugin}/config/validate: every key with its errors, in Connect's shape.
response validate(const std::string& plugin, const std::string& body, const api_context& ctx) {
  if (connect::nested_deeper_than(body)) return error(400, "Request body is " + connect::too_deep_message());
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return error(400, "Request body must be a JSON object of config strings");
  conf::properties p;
  p.source = "request";
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.value().is_null()) return error(400, "Null value can not be supplied as the configuration value.");
    p.set(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  const std::string cls = p.get("connector.class").value_or("");
  std::string simple = cls.substr(cls.rfind('.') == std::string::npos ? 0 : cls.rfind('.') + 1);
  bool matches = plugin == cls || plugin == simple ||
                 (simple.size() > 9 && simple.compare(simple.size() - 9, 9, "Connector") == 0 &&
                  plugin == simple.substr(0, simple.size() - 9));
  if (!matches)
    return error(400, "Connector plugin " + plugin + " does not match the connector.class " + cls + " of the config");
  std::map<std::string, std::vector<std::string>> errors;
  try {
    conf::parse_connector_config(p, ctx.worker ? *ctx.worker : conf::worker_config{});
  } catch (const conf::config_exception& e) {
    for (const auto& err : e.errors.all()) errors[err.key].push_back(err.problem);
  }
  // Every declared key, then the given and the erroneous ones under a prefix or undeclared.
  const conf::config_def& table = conf::sink_connector_keys();
  std::vector<std::string> keys;
  std::set<std::string> listed;
  auto list = [&](const std::string& k) {
    if (listed.insert(k).second) keys.push_back(k);
  };
  for (const auto& d : table.keys())
    if (!d.prefix) list(d.name);
  const plugin_keys plugin_defs = transform_keys_of(p);
  for (const auto& k : plugin_defs.order) list(k);
  for (const auto& e : p.entries()) list(e.key);
  for (const auto& [k, v] : errors) list(k);
  std::map<std::string, int> order_in_group;
  json configs = json::array();
  int count = 0;
  for (const auto& k : keys) {
    const conf::key_def* d = table.find(k);
    std::string group = d && !d->group.empty() ? d->group : "Common";
    if (auto it = plugin_defs.by_key.find(k); it != plugin_defs.by_key.end()) {
      d = it->second.first;
      group = it->second.second;
    }
    const bool own = d && !d->prefix;
    const bool secret = (d && d->type == conf::key_type::password) || conf::is_secret_key(k);
    json definition{{"name", k},
                    {"type", d ? conf::type_name(d->type) : "STRING"},
                    {"required", own && d->required},
                    {"default_value", own && d->default_value ? json(*d->default_value) : json(nullptr)},
                    {"importance", d ? conf::importance_name(d->importance) : "LOW"},
                    {"documentation", d ? d->doc : ""},
                    {"group", group},
                    {"order", ++order_in_group[group]},
                    {"width", "NONE"},
                    {"display_name", k},
                    {"dependents", json::array()}};
    json errs = json::array();
    if (auto it = errors.find(k); it != errors.end())
      for (const auto& m : it->second) errs.push_back(m), ++count;
    json recommended = json::array();
    if (d)
      for (const auto& c : d->choices) recommended.push_back(c);
    auto v = p.get(k);
    json value{{"name", k},
               {"value", v ? (secret ? json("[hidden]") : json(*v)) : json(nullptr)},
               {"recommended_values", recommended},
               {"errors", errs},
               {"visible", true}};
    configs.push_back(json{{"definition", definition}, {"value", value}});
  }
  json groups = json::array();
  for (const auto& g : table.groups()) groups.push_back(g);
  for (const auto& g : plugin_defs.groups) groups.push_back(g);
  return ok(json{{"name", cls}, {"error_count", count}, {"groups", groups}, {"configs", configs}});
}

// A request body's config map: strings, and numbers or booleans as their text (as Jackson
// reads a Map<String, String>); null and nested values are refused.
bool read_config_map(const json& doc, std::map<std::string, std::string>& out, std::string& problem) {
  if (!doc.is_object()) {
    problem = "Connector configuration must be a JSON object of string values";
    return false;
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const auto& v = it.value();
    if (v.is_null()) {
      problem = "Null value can not be supplied as the configuration value (key " + it.key() + ")";
      return false;
    }
    if (v.is_string())
      out[it.key()] = v.get<std::string>();
    else if (v.is_number() || v.is_boolean())
      out[it.key()] = v.dump();
    else {
      problem = "Configuration value of " + it.key() + " must be a string, not " + std::string(v.type_name());
      return false;
    }
  }
  return true;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Kafka Connect's checks before a config is stored: a connector type, the right class, then
// every key; all errors in one 400.
std::optional<response> invalid_config(const std::map<std::string, std::string>& config, const api_context& ctx) {
  auto cls = config.find("connector.class");
  if (cls == config.end() || trim(cls->second).empty()) {
    json shown = json::object();
    for (const auto& [k, v] : config) shown[k] = k == "starrocks.password" ? "[hidden]" : v;
    return error(400, "Connector config " + shown.dump() + " contains no connector type");
  }
  try {
    conf::parse_connector_config(conf::properties_from(config, "request"), ctx.worker ? *ctx.worker : conf::worker_config{});
  } catch (const conf::config_exception& e) {
    const auto& all = e.errors.all();
    for (const auto& err : all)
      if (err.key == "connector.class")
        return error(500, "Failed to find any class that implements Connector and which name matches " + cls->second +
                              ", available connectors are: PluginDesc{klass=class "
                              "com.starrocks.connector.kafka.StarRocksSinkConnector, name='"
                              "com.starrocks.connector.kafka.StarRocksSinkConnector', type=sink}");
    std::string msg = "Connector configuration is invalid and contains the following " + std::to_string(all.size()) +
                      " error(s):";
    for (const auto& err : all) msg += "\n" + err.key + ": " + err.problem;
    msg += "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";
    return error(400, msg);
  }
  return std::nullopt;
}

response from_admin(const admin_result& r, const json& on_success, int success_status) {
  if (r.status >= 400) return error(r.status, r.message);
  if (!r.body.empty()) return {r.status, r.body, "application/json"};
  if (success_status == 204 || success_status == 202) return {success_status, "", "application/json"};
  return ok(on_success, success_status);
}

// The config's `name` must be the connector's, and is inserted when absent.
std::optional<response> name_config(const std::string& name, std::map<std::string, std::string>& config) {
  if (auto n = config.find("name"); n != config.end() && n->second != name)
    return error(400, "Connector name configuration (" + n->second + ") doesn't match connector name in the URL (" +
                          name + ")");
  config["name"] = name;
  return std::nullopt;
}

// A stored config's answer: the Info, with Location when it was created.
response stored(const admin_result& r, const json& info, const std::string& name, int success_status) {
  auto res = from_admin(r, info, success_status);
  if (res.status == 201) res.location = "/connectors/" + name;
  return res;
}

json info_for(const std::string& name, const std::map<std::string, std::string>& config,
              const std::optional<pipelines::connector_view>& known) {
  pipelines::connector_view v;
  if (known) v = *known;
  v.name = name;
  v.config = config;
  return info_of(v);
}

bool query_flag(const std::multimap<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it != q.end() && (it->second == "true" || it->second == "TRUE" || it->second == "True");
}

} // namespace

response handle(const request& req, const api_context& ctx) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  const auto parts = split_path(path);
  const auto query = query_of(req.target);
  const auto& reg = *ctx.registry;
  const bool get = req.method == "GET";
  auto read_only = [&]() {
    if (ctx.admin) return error(405, "HTTP 405 Method Not Allowed");
    return error(405, "HTTP 405 Method Not Allowed: starpipe standalone serves the read-only endpoints; connectors "
                      "are configured by the files given on its command line (use starpipe distributed to manage "
                      "them over REST)");
  };

  if (parts.empty()) {
    if (!get) return read_only();
    return ok(json{{"version", "3.9.0"}, {"commit", "starpipe-" + ctx.version}, {"kafka_cluster_id", ""}});
  }
  const bool starting = ctx.admin && !ctx.admin->ready();
  if (parts.size() == 1 && parts[0] == "health") {
    if (starting) return ok(json{{"status", "starting"}, {"message", "Worker is still starting up."}}, 503);
    return ok(json{{"status", "healthy"}, {"message", "Worker has completed startup and is ready to handle requests."}});
  }
  // Before the config topic has been read, an empty list would be a lie.
  if (starting && parts[0] == "connectors")
    return error(503, "Worker is still starting up: the cluster's configuration is being read");
  if (parts[0] == "metrics" && parts.size() == 1) {
    if (!get) return read_only();
    return {200, prometheus_metrics(ctx.metrics ? *ctx.metrics : reg), "text/plain; version=0.0.4"};
  }
  if (parts[0] == "connector-plugins") {
    if (parts.size() == 4 && parts[2] == "config" && parts[3] == "validate") {
      if (req.method != "PUT") return error(405, "HTTP 405 Method Not Allowed");
      return validate(parts[1], req.body, ctx);
    }
    if (!get) return error(405, "HTTP 405 Method Not Allowed");
    if (parts.size() == 1) {
      auto it = query.find("connectorsOnly");
      return ok(plugins(it == query.end() || it->second != "false"));
    }
    return error(404, "HTTP 404 Not Found");
  }
  if (parts[0] != "connectors") return error(404, "HTTP 404 Not Found");

  if (parts.size() == 1) {
    if (req.method == "POST") {
      if (!ctx.admin) return read_only();
      if (connect::nested_deeper_than(req.body)) return error(400, "Request body is " + connect::too_deep_message());
      auto doc = json::parse(req.body, nullptr, false);
      if (doc.is_discarded() || !doc.is_object())
        return error(400, "Request body must be a JSON object: {\"name\": ..., \"config\": {...}}");
      auto name_it = doc.find("name");
      if (name_it == doc.end() || !name_it->is_string() || trim(name_it->get<std::string>()).empty())
        return error(400, "Connector name must not be empty: the body needs a \"name\" string");
      const std::string name = trim(name_it->get<std::string>());
      if (name.find('/') != std::string::npos)
        return error(400, "Connector name " + name + " must not contain '/'");
      std::map<std::string, std::string> config;
      std::string problem;
      auto cfg_it = doc.find("config");
      if (cfg_it == doc.end()) return error(400, "Request body has no \"config\" object");
      if (!read_config_map(*cfg_it, config, problem)) return error(400, problem);
      if (auto bad = name_config(name, config)) return *bad;
      std::optional<connect::target_state> initial;
      if (auto s = doc.find("initial_state"); s != doc.end() && !s->is_null()) {
        if (s->is_string()) initial = connect::parse_target_state(s->get<std::string>());
        if (!initial) return error(400, "initial_state must be one of RUNNING, PAUSED, STOPPED (case-insensitive)");
      }
      if (auto bad = invalid_config(config, ctx)) return *bad;
      auto r = ctx.admin->put_config(name, config, true, initial);
      return stored(r, info_for(name, config, std::nullopt), name, 201);
    }
    if (!get) return read_only();
    bool with_status = false, with_info = false;
    for (auto [it, end] = query.equal_range("expand"); it != end; ++it) {
      with_status = with_status || it->second == "status";
      with_info = with_info || it->second == "info";
    }
    auto all = reg.all();
    if (!with_status && !with_info) {
      json names = json::array();
      for (const auto& v : all) names.push_back(v.name);
      return ok(names);
    }
    json out = json::object();
    for (const auto& v : all) {
      json e = json::object();
      if (with_status) e["status"] = status_of(v, ctx.worker_id);
      if (with_info) e["info"] = info_of(v);
      out[v.name] = e;
    }
    return ok(out);
  }

  const std::string& name = parts[1];
  const std::string what = parts.size() > 2 ? parts[2] : "";
  auto v = reg.get(name);

  // PUT /connectors/{name}/config creates or replaces.
  if (parts.size() == 3 && what == "config" && req.method == "PUT") {
    if (!ctx.admin) return read_only();
    if (connect::nested_deeper_than(req.body)) return error(400, "Request body is " + connect::too_deep_message());
    auto doc = json::parse(req.body, nullptr, false);
    if (doc.is_discarded()) return error(400, "Request body is not valid JSON");
    std::map<std::string, std::string> config;
    std::string problem;
    if (!read_config_map(doc, config, problem)) return error(400, problem);
    if (auto bad = name_config(name, config)) return *bad;
    if (auto bad = invalid_config(config, ctx)) return *bad;
    auto r = ctx.admin->put_config(name, config, false, std::nullopt);
    return stored(r, info_for(name, config, v), name, r.status);
  }

  if (!v) {
    if (parts.size() == 3 && what == "status") return error(404, "No status found for connector " + name);
    if (parts.size() == 5 && what == "tasks" && parts[4] == "status")
      return error(404, "No status found for task " + name + "-" + parts[3]);
    if (parts.size() == 3 && (what == "pause" || what == "resume")) return error(404, "Unknown connector " + name);
    return error(404, "Connector " + name + " not found");
  }

  if (parts.size() == 2 && req.method == "DELETE") {
    if (!ctx.admin) return read_only();
    return from_admin(ctx.admin->remove(name), json(), 204);
  }
  if (parts.size() == 3 && (what == "pause" || what == "resume" || what == "stop") && req.method == "PUT") {
    if (!ctx.admin) return read_only();
    auto s = what == "pause" ? connect::target_state::paused
             : what == "stop" ? connect::target_state::stopped : connect::target_state::started;
    return from_admin(ctx.admin->set_target_state(name, s), json(), what == "stop" ? 204 : 202);
  }
  if (parts.size() == 3 && what == "restart" && req.method == "POST") {
    if (!ctx.admin) return read_only();
    connect::restart_request r;
    r.connector = name;
    r.include_tasks = query_flag(query, "includeTasks");
    r.only_failed = query_flag(query, "onlyFailed");
    auto res = ctx.admin->restart(r);
    if (res.status >= 400) return error(res.status, res.message);
    if (!r.include_tasks && !r.only_failed) return {204, "", "application/json"};
    // 202 with the status, the instances being restarted shown RESTARTING.
    auto shown = *v;
    if (!r.only_failed || shown.state == "FAILED") shown.state = "RESTARTING";
    for (auto& t : shown.tasks)
      if (!r.only_failed || t.state == "FAILED") t.state = "RESTARTING";
    return ok(status_of(shown, ctx.worker_id), 202);
  }
  if (parts.size() == 5 && what == "tasks" && parts[4] == "restart" && req.method == "POST") {
    if (!ctx.admin) return read_only();
    for (const auto& t : v->tasks)
      if (std::to_string(t.id) == parts[3]) {
        connect::restart_request r;
        r.connector = name;
        r.include_tasks = true;
        r.worker_id = t.worker_id.empty() ? ctx.worker_id : t.worker_id;
        auto res = ctx.admin->restart(r);
        if (res.status >= 400) return error(res.status, res.message);
        return {204, "", "application/json"};
      }
    return error(404, "Task " + name + "-" + parts[3] + " not found");
  }
  if (parts.size() == 3 && what == "offsets" && get) {
    if (!ctx.admin) return error(404, "HTTP 404 Not Found");
    return from_admin(ctx.admin->offsets(name), json(), 200);
  }
  if (!get) return read_only();
  if (parts.size() == 2) return ok(info_of(*v));
  if (parts.size() == 3 && what == "config") {
    json c = json::object();
    for (const auto& [k, val] : v->config) c[k] = val;
    return ok(c);
  }
  if (parts.size() == 3 && what == "status") return ok(status_of(*v, ctx.worker_id));
  if (parts.size() == 3 && what == "tasks") {
    json out = json::array();
    json config = json::object();
    for (const auto& [k, val] : v->config) config[k] = val;
    for (const auto& t : v->tasks) out.push_back(json{{"id", json{{"connector", name}, {"task", t.id}}}, {"config", config}});
    return ok(out);
  }
  if (parts.size() == 3 && what == "topics") {
    json topics = json::array();
    for (const auto& t : v->topics) topics.push_back(t);
    return ok(json{{name, json{{"topics", topics}}}});
  }
  if (parts.size() == 5 && what == "tasks" && parts[4] == "status") {
    for (const auto& t : v->tasks)
      if (std::to_string(t.id) == parts[3]) return ok(task_state_of(t, ctx.worker_id));
    return error(404, "No status found for task " + name + "-" + parts[3]);
  }
  return error(404, "HTTP 404 Not Found");
}

bool authorized(const std::string& header, const std::map<std::string, std::string>& users) {
  if (users.empty()) return true;
  if (header.rfind("Basic ", 0) != 0) return false;
  bool ok = false;
  std::string decoded = connect::base64_decode(header.substr(6), ok);
  auto colon = decoded.find(':');
  if (!ok || colon == std::string::npos) return false;
  auto it = users.find(decoded.substr(0, colon));
  return it != users.end() && it->second == decoded.substr(colon + 1);
}

std::string prometheus_metrics(const pipelines::connector_registry& registry) {
  std::ostringstream out;
  struct metric {
    const char* name;
    const char* help;
    const char* type;
    int64_t pipelines::connector_metrics::*field;
  };
  static const metric metrics[] = {
      {"starpipe_total_flush_bytes", "Bytes loaded into StarRocks (totalFlushBytes)", "counter",
       &pipelines::connector_metrics::total_flush_bytes},
      {"starpipe_total_flush_rows", "Rows loaded into StarRocks (totalFlushRows)", "counter",
       &pipelines::connector_metrics::total_flush_rows},
      {"starpipe_total_flush_succeeded_times", "Successful loads (totalFlushSucceededTimes)", "counter",
       &pipelines::connector_metrics::total_flush_succeeded_times},
      {"starpipe_total_flush_failed_times", "Failed load attempts (totalFlushFailedTimes)", "counter",
       &pipelines::connector_metrics::total_flush_failed_times},
      {"starpipe_total_filtered_rows", "Rows StarRocks filtered (totalFilteredRows)", "counter",
       &pipelines::connector_metrics::total_filtered_rows},
      {"starpipe_consumer_lag", "Records in Kafka not consumed yet", "gauge", &pipelines::connector_metrics::consumer_lag},
      {"starpipe_buffered_bytes", "Record bytes consumed and not loaded yet", "gauge",
       &pipelines::connector_metrics::buffered_bytes},
      {"starpipe_load_latency_ms", "Duration of the last load", "gauge", &pipelines::connector_metrics::last_load_latency_ms},
      {"starpipe_stalled", "1 while no load succeeds and records wait in Kafka", "gauge", &pipelines::connector_metrics::stalled},
      {"starpipe_waiting_for_starrocks", "1 while loads retry because no FE of starrocks.http.url takes a connection",
       "gauge", &pipelines::connector_metrics::waiting_for_starrocks},
      {"starpipe_credit_pauses_total", "Times a task paused reading because its share of bufferflush.maxbytes was spent",
       "counter", &pipelines::connector_metrics::credit_pauses},
      {"starpipe_credit_resumes_total", "Times a paused task read again once loads gave its credit back", "counter",
       &pipelines::connector_metrics::credit_resumes},
  };
  auto all = registry.all();
  for (const auto& m : metrics) {
    out << "# HELP " << m.name << " " << m.help << "\n# TYPE " << m.name << " " << m.type << "\n";
    for (const auto& v : all) out << m.name << "{connector=\"" << v.name << "\"} " << v.metrics.*(m.field) << "\n";
  }
  out << "# HELP starpipe_task_consumer_lag Records in Kafka not consumed yet, per task\n"
         "# TYPE starpipe_task_consumer_lag gauge\n";
  for (const auto& v : all)
    for (const auto& [task, lag] : v.metrics.task_lag)
      out << "starpipe_task_consumer_lag{connector=\"" << v.name << "\",task=\"" << task << "\"} " << lag << "\n";
  out << "# HELP starpipe_task_partitions Partitions the task reads now\n"
         "# TYPE starpipe_task_partitions gauge\n";
  for (const auto& v : all)
    for (const auto& [task, n] : v.metrics.task_partitions)
      out << "starpipe_task_partitions{connector=\"" << v.name << "\",task=\"" << task << "\"} " << n << "\n";
  out << "# HELP starpipe_task_running 1 while the task is RUNNING\n# TYPE starpipe_task_running gauge\n";
  for (const auto& v : all)
    for (const auto& t : v.tasks)
      out << "starpipe_task_running{connector=\"" << v.name << "\",task=\"" << t.id << "\",state=\"" << t.state
          << "\"} " << (t.state == "RUNNING" ? 1 : 0) << "\n";
  return out.str();
}

} // namespace starpipe::rest
