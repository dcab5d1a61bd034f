#include "pipelines/worker_process.h"

#include <thread>

#include "common/log.h"

namespace starpipe::pipelines {

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

const char* wait_for_stop_signal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

void arm_shutdown_watchdog(const sigset_t& signals, std::chrono::milliseconds deadline) {
  std::thread watchdog([signals, deadline]() mutable {
    timespec ts{static_cast<time_t>(deadline.count() / 1000), static_cast<long>(deadline.count() % 1000) * 1000000};
    int s = sigtimedwait(&signals, nullptr, &ts);
    LOG_ERROR("worker", (s > 0 ? "second signal" : "shutdown timed out") << ": exiting without a clean stop");
    std::_Exit(2);
  });
  watchdog.detach();
}

std::unique_ptr<caf::actor_system_config> quiet_actor_system_config() {
  auto cfg = std::make_unique<caf::actor_system_config>();
  cfg->set("logger.verbosity", caf::atom("quiet"));
  cfg->set("logger.console", caf::atom("none"));
  return cfg;
}

} // namespace starpipe::pipelines
