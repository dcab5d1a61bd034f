#include "pipelines/distributed.h"

#include "common/log.h"
#include "conf/worker_config.h"
#include "pipelines/cluster/herder.h"
#include "pipelines/rest_server.h"
#include "pipelines/worker_process.h"

namespace starpipe::pipelines {

int run_distributed(const std::string& worker_file) {
  std::shared_ptr<const conf::worker_config> worker;
  try {
    worker = std::make_shared<conf::worker_config>(
        conf::parse_worker_config(conf::load_properties_file(worker_file), conf::worker_mode::distributed));
  } catch (const std::exception& e) {
    LOG_ERROR("config", "invalid worker configuration, not starting:\n  " << e.what());
    return 1;
  }
  for (const auto& w : worker->warnings) LOG_WARN("config", w);
  const sigset_t signals = block_stop_signals();

  auto sys_cfg = quiet_actor_system_config();
  caf::actor_system sys{*sys_cfg};
  auto view = std::make_shared<connector_registry>();
  auto local = std::make_shared<connector_registry>();
  cluster::herder herder(sys, worker, view, local);

  // The REST API first: a worker that cannot listen does not start. Until the herder has
  // read the cluster's state, writes answer 409.
  std::unique_ptr<rest_server> rest;
  try {
    rest = std::make_unique<rest_server>(worker->rest_host, worker->rest_port, worker, rest_backend{view, local, &herder});
  } catch (const std::exception& e) {
    LOG_ERROR("distributed", "REST API (listeners): " << e.what());
    return 1;
  }
  LOG_INFO("distributed", "starpipe " << STARPIPE_VERSION << " distributed: worker " << worker->worker_id
                                      << ", group " << worker->group_id << ", Kafka at " << worker->bootstrap_servers
                                      << "; REST API on " << rest->scheme() << "://" << worker->rest_host << ":" << rest->port());
  if (auto e = herder.start(); !e.empty()) {
    LOG_ERROR("distributed", "cannot join the cluster: " << e);
    herder.stop();
    return 1;
  }

  const char* sig = wait_for_stop_signal(signals);
  LOG_INFO("distributed", "received " << sig << ": stopping this worker's pipelines (buffered rows are loaded and "
                                             "committed; the other workers take over the partitions)");
  arm_shutdown_watchdog(signals, std::chrono::milliseconds(std::max<int64_t>(worker->task_shutdown_graceful_timeout_ms, 0)));
  rest.reset();
  herder.stop();
  sys.await_all_actors_done();
  LOG_INFO("distributed", "stopped");
  return 0;
}

} // namespace starpipe::pipelines
