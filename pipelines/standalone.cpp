#include "pipelines/standalone.h"

#include <caf/all.hpp>

#include <set>

#include "actors/messages.h"
#include "common/log.h"
#include "conf/connector_config.h"
#include "conf/worker_config.h"
#include "pipelines/connector_pipeline.h"
#include "pipelines/rest_server.h"
#include "pipelines/worker_process.h"

namespace starpipe::pipelines {

namespace {

struct loaded_config {
  std::shared_ptr<const conf::worker_config> worker;
  std::vector<std::shared_ptr<const conf::connector_config>> connectors;
};

// Every file is read and validated before anything starts; all errors are reported together.
bool load_all(const std::string& worker_file, const std::vector<std::string>& connector_files, loaded_config& out) {
  std::vector<std::string> errors;
  conf::worker_config worker;
  try {
    worker = conf::parse_worker_config(conf::load_properties_file(worker_file));
  } catch (const conf::config_exception& e) {
    errors.push_back(e.what());
  } catch (const std::exception& e) {
    errors.push_back(e.what());
  }
  std::set<std::string> names;
  for (const auto& f : connector_files) {
    try {
      auto c = conf::parse_connector_config(conf::load_connector_file(f), worker);
      if (!names.insert(c.name).second) {
        errors.push_back(f + ": name=" + c.name + ": a connector with this name is already configured");
        continue;
      }
      out.connectors.push_back(std::make_shared<conf::connector_config>(std::move(c)));
    } catch (const conf::config_exception& e) {
      errors.push_back(e.what());
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += "\n  " + e;
    LOG_ERROR("config", "invalid configuration, not starting:" << all);
    return false;
  }
  for (const auto& w : worker.warnings) LOG_WARN("config", w);
  for (const auto& c : out.connectors)
    for (const auto& w : c->warnings) LOG_WARN("config", w);
  out.worker = std::make_shared<conf::worker_config>(std::move(worker));
  return true;
}

} // namespace

int run_standalone(const std::string& worker_file, const std::vector<std::string>& connector_files) {
  loaded_config cfg;
  if (!load_all(worker_file, connector_files, cfg)) return 1;

  // Signals are taken by sigwait on this thread only; every other thread inherits the mask.
  const sigset_t signals = block_stop_signals();

  // The REST API first: a worker that cannot listen does not start, as in Kafka Connect.
  auto registry = std::make_shared<connector_registry>();
  std::unique_ptr<rest_server> rest;
  try {
    rest = std::make_unique<rest_server>(cfg.worker->rest_host, cfg.worker->rest_port, cfg.worker,
                                         rest_backend{registry, registry, nullptr});
  } catch (const std::exception& e) {
    LOG_ERROR("standalone", "REST API (listeners): " << e.what());
    return 1;
  }
  LOG_INFO("standalone", "REST API on " << rest->scheme() << "://" << cfg.worker->rest_host << ":" << rest->port()
                                                << " (read-only in standalone mode; GET /metrics for Prometheus)");

  auto sys_cfg = quiet_actor_system_config();
  caf::actor_system sys{*sys_cfg};

  LOG_INFO("standalone", "starpipe " << STARPIPE_VERSION << " standalone: Kafka at "
                                     << cfg.worker->bootstrap_servers << ", " << cfg.connectors.size()
                                     << " connector(s)");
  std::vector<caf::actor> supervisors;
  for (const auto& c : cfg.connectors) {
    LOG_INFO("standalone", describe(*c));
    supervisors.push_back(start_connector(sys, c, cfg.worker, registry));
  }

  const char* sig = wait_for_stop_signal(signals);
  LOG_INFO("standalone", "received " << sig << ": stopping consumption, loading buffered rows, committing offsets");
  arm_shutdown_watchdog(signals, std::chrono::milliseconds(std::max<int64_t>(cfg.worker->task_shutdown_graceful_timeout_ms, 0)));

  bool clean = true;
  {
    caf::scoped_actor self{sys};
    for (const auto& s : supervisors)
      self->request(s, caf::infinite, shutdown_atom::value)
          .receive([&](bool ok) { clean = clean && ok; }, [&](caf::error&) { clean = false; });
  }
  sys.await_all_actors_done();
  LOG_INFO("standalone", "stopped" << (clean ? "" : " (a connector had failed; its offsets stop before the failure)"));
  return 0;
}

} // namespace starpipe::pipelines
