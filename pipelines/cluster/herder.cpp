#include "pipelines/cluster/herder.h"

#include "protocol/kafka/topic_pattern.h"

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <regex>
#include <thread>

#include "actors/messages.h"
#include "common/kafka_client.h"
#include "common/log.h"
#include "conf/connector_config.h"
#include "pipelines/cluster/kafka_log.h"
#include "pipelines/connector_pipeline.h"

namespace starpipe::pipelines::cluster {

namespace {

using namespace std::chrono_literals;
using connect::target_state;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Kafka Connect's words for a worker that cannot serve a write right now.
const char* rebalancing = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";
const char* stale = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent "
                    "config change)";

constexpr auto publish_interval = 2s;
// A worker's statuses not refreshed for this long are a dead worker's: its tasks leave the
// view, as its consumers leave their groups after session.timeout.ms.
constexpr int64_t status_expiry_ms = 10000;
constexpr auto write_timeout = 10s;

} // namespace

struct herder::impl {
  caf::actor_system& sys;
  std::shared_ptr<const conf::worker_config> worker;
  std::shared_ptr<connector_registry> cluster_view;
  std::shared_ptr<connector_registry> local;
  std::unique_ptr<kafka_log> config_log;
  std::unique_ptr<kafka_log> status_log;

  // Shared with the Kafka reader threads and the REST threads.
  mutable std::mutex mutex;
  connect::cluster_config config;
  std::map<std::string, connect::worker_status> statuses; // by status key
  std::deque<connect::restart_request> restarts;
  bool live_events = false; // restart requests read at start-up are history, not requests
  bool ready = false;
  bool stopping = false;
  bool changed = false;
  std::condition_variable wake;
  std::mutex write_mutex; // one write at a time from this worker

  // Reconcile thread only.
  struct instance {
    caf::actor supervisor; // null: not running here (stopped, or its config failed)
    std::map<std::string, std::string> config;
    bool paused = false;
    int64_t generation = 0;
  };
  std::map<std::string, instance> instances;
  std::thread reconciler;

  impl(caf::actor_system& s, std::shared_ptr<const conf::worker_config> w, std::shared_ptr<connector_registry> view,
       std::shared_ptr<connector_registry> l)
      : sys(s), worker(std::move(w)), cluster_view(std::move(view)), local(std::move(l)) {}

  void on_config_record(const connect::stored_record& r) {
    std::string problem;
    {
      std::lock_guard<std::mutex> g(mutex);
      auto restart = config.apply(r, problem);
      if (restart && live_events) restarts.push_back(*restart);
      changed = true;
    }
    if (!problem.empty()) LOG_WARN("cluster", "config topic " << worker->config_topic << ": " << problem << "; skipped");
    wake.notify_all();
  }

  void on_status_record(const connect::stored_record& r) {
    if (!connect::is_status_key(r.key)) return; // a Kafka Connect worker's statuses, or topic tracking
    std::string problem;
    auto s = connect::parse_status(r, problem);
    std::lock_guard<std::mutex> g(mutex);
    if (!r.value)
      statuses.erase(r.key);
    else if (s)
      statuses[r.key] = std::move(*s);
    else
      LOG_WARN("cluster", "status topic " << worker->status_topic << ": " << problem << "; skipped");
  }

  connect::worker_status own_status(const connector_view& v) const {
    connect::worker_status s;
    s.connector = v.name;
    s.worker_id = worker->worker_id;
    s.state = v.state;
    s.trace = v.trace;
    s.tasks = v.tasks;
    s.topics.assign(v.topics.begin(), v.topics.end());
    s.time_ms = now_ms();
    return s;
  }

  void refresh_view() {
    auto mine = local->all();
    std::vector<connector_view> views;
    {
      std::lock_guard<std::mutex> g(mutex);
      auto merged = statuses;
      // This worker's own part is known here first hand and fresh, whatever the status
      // topic holds.
      for (auto it = merged.begin(); it != merged.end();)
        it = it->second.worker_id == worker->worker_id ? merged.erase(it) : std::next(it);
      for (const auto& v : mine) {
        auto s = own_status(v);
        merged[connect::status_record(s).key] = std::move(s);
      }
      views = connect::merge_views(config, merged, now_ms(), status_expiry_ms);
    }
    cluster_view->replace_all(std::move(views));
  }

  // --- the reconcile thread ---------------------------------------------------------------

  std::shared_ptr<conf::connector_config> parse(const std::string& name, const std::map<std::string, std::string>& c,
                                                std::string& error) {
    try {
      auto cfg = std::make_shared<conf::connector_config>(
          conf::parse_connector_config(conf::properties_from(c, "connector " + name), *worker));
      for (const auto& w : cfg->warnings) LOG_WARN("config", w);
      return cfg;
    } catch (const std::exception& e) {
      error = e.what();
      return nullptr;
    }
  }

  void start_instance(const std::string& name, const connect::stored_connector& stored, instance& inst) {
    inst.config = stored.config;
    inst.paused = false;
    std::string error;
    auto cfg = parse(name, stored.config, error);
    if (!cfg) {
      // Valid when stored (the REST API checked), invalid here: a config provider this worker
      // cannot resolve, say. The connector is FAILED on this worker, with the reason.
      LOG_ERROR("cluster", "connector " << name << " cannot start on this worker: " << error);
      connector_view v;
      v.name = name;
      v.config = stored.config;
      v.state = "FAILED";
      v.trace = "org.apache.kafka.connect.errors.ConnectException: invalid configuration on worker " +
                worker->worker_id + ": " + error;
      local->put(std::move(v));
      return;
    }
    LOG_INFO("cluster", describe(*cfg));
    inst.supervisor = start_connector(sys, cfg, worker, local);
    ++inst.generation;
    if (stored.target == target_state::paused) {
      caf::anon_send(inst.supervisor, pause_atom::value);
      inst.paused = true;
    }
  }

  void stop_instance(const std::string& name, instance& inst) {
    if (!inst.supervisor) return;
    LOG_INFO("cluster", "stopping connector " << name << " on this worker");
    auto timeout = std::chrono::milliseconds(worker->task_shutdown_graceful_timeout_ms) + 60s;
    caf::scoped_actor self{sys};
    self->request(inst.supervisor, timeout, shutdown_atom::value)
        .receive([](bool) {},
                 [&](caf::error& e) {
                   LOG_WARN("cluster", "connector " << name << " did not stop cleanly: " << sys.render(e)
                                                    << "; its partitions resume from the last commit elsewhere");
                   self->send_exit(inst.supervisor, caf::exit_reason::kill);
                 });
    inst.supervisor = nullptr;
  }

  bool failed_here(const std::string& name) {
    auto v = local->get(name);
    if (!v) return false;
    if (v->state == "FAILED") return true;
    for (const auto& t : v->tasks)
      if (t.state == "FAILED") return true;
    return false;
  }

  void show_restarting(const std::string& name) {
    local->update(name, [](connector_view& v) {
      v.state = "RESTARTING";
      for (auto& t : v.tasks) t.state = "RESTARTING";
    });
    publish(name);
    refresh_view();
  }

  void reconcile() {
    std::map<std::string, connect::stored_connector> desired;
    std::deque<connect::restart_request> todo;
    {
      std::lock_guard<std::mutex> g(mutex);
      desired = config.connectors();
      todo.swap(restarts);
      changed = false;
    }
    for (auto it = instances.begin(); it != instances.end();) {
      if (desired.count(it->first)) {
        ++it;
        continue;
      }
      LOG_INFO("cluster", "connector " << it->first << " was deleted");
      stop_instance(it->first, it->second);
      local->remove(it->first);
      if (auto e = status_log->write(connect::status_tombstone(it->first, worker->worker_id), write_timeout); !e.empty())
        LOG_WARN("cluster", e);
      it = instances.erase(it);
    }
    for (const auto& [name, stored] : desired) {
      auto& inst = instances[name];
      bool known = local->get(name).has_value();
      if (known && inst.config != stored.config) {
        LOG_INFO("cluster", "connector " << name << ": configuration changed, restarting it");
        stop_instance(name, inst);
        known = false;
      }
      if (stored.target == target_state::stopped) {
        stop_instance(name, inst);
        connector_view v;
        v.name = name;
        v.config = stored.config;
        v.state = "STOPPED";
        local->put(std::move(v));
        inst.config = stored.config;
        continue;
      }
      if (!inst.supervisor && (!known || local->get(name)->state == "STOPPED")) {
        start_instance(name, stored, inst);
        publish(name);
        continue;
      }
      if (!inst.supervisor) continue; // FAILED config here; a change or a restart retries
      bool want_paused = stored.target == target_state::paused;
      if (want_paused != inst.paused) {
        caf::anon_send(inst.supervisor, want_paused ? caf::make_message(pause_atom::value)
                                                    : caf::make_message(resume_atom::value));
        inst.paused = want_paused;
      }
    }
    for (const auto& r : todo) {
      if (!r.worker_id.empty() && r.worker_id != worker->worker_id) continue;
      auto it = instances.find(r.connector);
      auto d = desired.find(r.connector);
      if (it == instances.end() || d == desired.end() || d->second.target == target_state::stopped) continue;
      if (r.only_failed && !failed_here(r.connector)) continue;
      LOG_INFO("cluster", "restarting connector " << r.connector << " on this worker (REST request)");
      show_restarting(r.connector);
      stop_instance(r.connector, it->second);
      local->remove(r.connector);
      start_instance(r.connector, d->second, it->second);
      publish(r.connector);
    }
  }

  void publish(const std::string& name) {
    auto v = local->get(name);
    if (!v) return;
    auto s = own_status(*v);
    s.generation = instances.count(name) ? instances[name].generation : 0;
    if (auto e = status_log->write(connect::status_record(s), write_timeout); !e.empty()) LOG_WARN("cluster", e);
  }

  void run() {
    auto last_publish = std::chrono::steady_clock::now() - publish_interval;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait_for(lock, 500ms, [&] { return stopping || changed || !restarts.empty(); });
        if (stopping) return;
      }
      reconcile();
      if (std::chrono::steady_clock::now() - last_publish >= publish_interval) {
        for (const auto& [name, inst] : instances) publish(name);
        last_publish = std::chrono::steady_clock::now();
      }
      refresh_view();
    }
  }

  // --- writes from the REST API ------------------------------------------------------------

  std::optional<rest::admin_result> cannot_write() {
    {
      std::lock_guard<std::mutex> g(mutex);
      if (!ready || stopping) return rest::admin_result{409, rebalancing, ""};
    }
    if (!config_log->catch_up(5s)) return rest::admin_result{409, stale, ""};
    return std::nullopt;
  }

  bool exists(const std::string& name) {
    std::lock_guard<std::mutex> g(mutex);
    return config.get(name).has_value();
  }

  // Writes the records in order, then waits to read them back so that this worker's next
  // answer (and its pipelines) reflect the change.
  rest::admin_result write(const std::vector<connect::stored_record>& records, int status) {
    for (const auto& r : records)
      if (auto e = config_log->write(r, write_timeout); !e.empty()) return {500, e, ""};
    if (!config_log->catch_up(write_timeout)) return {409, stale, ""};
    wake.notify_all();
    refresh_view();
    return {status, "", ""};
  }
};

herder::herder(caf::actor_system& sys, std::shared_ptr<const conf::worker_config> worker,
               std::shared_ptr<connector_registry> cluster_view, std::shared_ptr<connector_registry> local)
    : impl_(std::make_unique<impl>(sys, std::move(worker), std::move(cluster_view), std::move(local))) {}

herder::~herder() { stop(); }

std::string herder::start() {
  auto& d = *impl_;
  const auto& w = *d.worker;
  kafka_log_settings cs{w.bootstrap_servers, w.config_topic, 1, true, w.config_replication, w.client_settings,
                        "starpipe-" + w.group_id + "-configs-" + w.worker_id};
  d.config_log = std::make_unique<kafka_log>(cs, [this](const connect::stored_record& r) { impl_->on_config_record(r); });
  kafka_log_settings ss{w.bootstrap_servers, w.status_topic, w.status_partitions, false, w.status_replication,
                        w.client_settings, "starpipe-" + w.group_id + "-statuses-" + w.worker_id};
  d.status_log = std::make_unique<kafka_log>(ss, [this](const connect::stored_record& r) { impl_->on_status_record(r); });
  if (auto e = d.config_log->open(30s); !e.empty()) return "config.storage.topic: " + e;
  if (auto e = d.status_log->open(30s); !e.empty()) return "status.storage.topic: " + e;
  if (!d.config_log->catch_up(60s)) return "config.storage.topic " + w.config_topic + ": could not read it to its end in 60 s";
  if (!d.status_log->catch_up(60s)) return "status.storage.topic " + w.status_topic + ": could not read it to its end in 60 s";
  size_t n = 0;
  {
    std::lock_guard<std::mutex> g(d.mutex);
    d.live_events = true;
    n = d.config.connectors().size();
  }
  d.refresh_view(); // the REST API answers from here on, so its view must be complete first
  {
    std::lock_guard<std::mutex> g(d.mutex);
    d.ready = true;
  }
  LOG_INFO("cluster", "worker " << w.worker_id << " joined cluster " << w.group_id << ": " << n
                                << " connector(s) in " << w.config_topic << ", statuses in " << w.status_topic);
  d.reconcile();
  for (const auto& [name, inst] : d.instances) d.publish(name);
  d.refresh_view();
  d.reconciler = std::thread([this] { impl_->run(); });
  return {};
}

void herder::stop() {
  auto& d = *impl_;
  {
    std::lock_guard<std::mutex> g(d.mutex);
    if (d.stopping) return;
    d.stopping = true;
  }
  d.wake.notify_all();
  if (d.reconciler.joinable()) d.reconciler.join();
  for (auto& [name, inst] : d.instances) {
    d.stop_instance(name, inst);
    // Withdrawn, not left to expire: the other workers' views drop this one at once.
    if (d.status_log)
      if (auto e = d.status_log->write(connect::status_tombstone(name, d.worker->worker_id), 5s); !e.empty())
        LOG_WARN("cluster", e);
  }
  d.instances.clear();
  if (d.config_log) d.config_log->close();
  if (d.status_log) d.status_log->close();
}

bool herder::ready() const {
  std::lock_guard<std::mutex> g(impl_->mutex);
  return impl_->ready && !impl_->stopping;
}

rest::admin_result herder::put_config(const std::string& name, const std::map<std::string, std::string>& config,
                                      bool create_only, std::optional<connect::target_state> initial) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> g(d.write_mutex);
  if (auto no = d.cannot_write()) return *no;
  bool existed = d.exists(name);
  if (existed && create_only) return {409, "Connector " + name + " already exists", ""};
  std::vector<connect::stored_record> records{connect::connector_config_record(name, config)};
  if (!existed) records.push_back(connect::target_state_record(name, initial.value_or(target_state::started)));
  LOG_INFO("cluster", (existed ? "updating" : "creating") << " connector " << name << " (REST request)");
  return d.write(records, existed ? 200 : 201);
}

rest::admin_result herder::remove(const std::string& name) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> g(d.write_mutex);
  if (auto no = d.cannot_write()) return *no;
  if (!d.exists(name)) return {404, "Connector " + name + " not found", ""};
  LOG_INFO("cluster", "deleting connector " << name << " (REST request)");
  return d.write({connect::connector_tombstone(name), connect::target_state_tombstone(name)}, 204);
}

rest::admin_result herder::set_target_state(const std::string& name, connect::target_state s) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> g(d.write_mutex);
  if (auto no = d.cannot_write()) return *no;
  if (!d.exists(name)) return {404, "Unknown connector " + name, ""};
  LOG_INFO("cluster", "connector " << name << " target state " << connect::to_string(s) << " (REST request)");
  return d.write({connect::target_state_record(name, s)}, 202);
}

rest::admin_result herder::restart(const connect::restart_request& r) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> g(d.write_mutex);
  if (auto no = d.cannot_write()) return *no;
  if (!d.exists(r.connector)) return {404, "Connector " + r.connector + " not found", ""};
  return d.write({connect::restart_record(r)}, 202);
}

rest::admin_result herder::offsets(const std::string& name) {
  auto& d = *impl_;
  std::optional<connect::stored_connector> stored;
  {
    std::lock_guard<std::mutex> g(d.mutex);
    stored = d.config.get(name);
  }
  if (!stored) return {404, "Connector " + name + " not found", ""};
  std::string error;
  auto cfg = d.parse(name, stored->config, error);
  if (!cfg) return {500, "Connector " + name + " has an invalid configuration on this worker: " + error, ""};

  // The sink's offsets are its consumer group's commits: read them as any client would.
  std::string error_text;
  rd_kafka_t* rk = new_kafka_client(
      RD_KAFKA_CONSUMER, conf::group_consumer_settings(*cfg, *d.worker, {{"client.id", "starpipe-offsets-" + name}}),
      error_text);
  if (!rk) return {500, "reading the offsets of connector " + name + ": " + error_text, ""};
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 1, nullptr, &md, 10000);
  rest::admin_result result;
  if (err) {
    result = {500, std::string("reading Kafka metadata: ") + rd_kafka_err2str(err), ""};
  } else {
    std::optional<kafka::topic_pattern> pattern;
    std::string problem;
    if (cfg->topics_regex) pattern = kafka::topic_pattern::compile(*cfg->topics_regex, problem);
    auto* list = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < md->topic_cnt; ++i) {
      std::string topic = md->topics[i].topic;
      bool wanted = cfg->topics_regex ? pattern && pattern->matches(topic)
                            : std::find(cfg->topics.begin(), cfg->topics.end(), topic) != cfg->topics.end();
      if (!wanted) continue;
      for (int p = 0; p < md->topics[i].partition_cnt; ++p)
        rd_kafka_topic_partition_list_add(list, topic.c_str(), md->topics[i].partitions[p].id);
    }
    rd_kafka_metadata_destroy(md);
    err = list->cnt ? rd_kafka_committed(rk, list, 10000) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err) {
      result = {500, std::string("reading the committed offsets of group ") + cfg->group_id() + ": " +
                         rd_kafka_err2str(err), ""};
    } else {
      nlohmann::ordered_json out{{"offsets", nlohmann::ordered_json::array()}};
      for (int i = 0; i < list->cnt; ++i) {
        const auto& e = list->elems[i];
        if (e.offset < 0) continue; // nothing committed for this partition
        out["offsets"].push_back({{"partition", {{"kafka_topic", e.topic}, {"kafka_partition", e.partition}}},
                                  {"offset", {{"kafka_offset", e.offset}}}});
      }
      result = {200, "", out.dump()};
    }
    rd_kafka_topic_partition_list_destroy(list);
  }
  rd_kafka_destroy(rk);
  return result;
}

} // namespace starpipe::pipelines::cluster
