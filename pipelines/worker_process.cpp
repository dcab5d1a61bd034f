#include "pipelines/worker_process.h"

#include <thread>

#include "common/log.h"
#include "protocol/stream_load/http_client.h"

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

void arm_shutdown_watchdog(const sigset_t& signals, std::chrono::milliseconds graceful, std::chrono::milliseconds margin) {
  std::thread watchdog([signals, graceful, margin]() mutable {
    auto wait = [&signals](std::chrono::milliseconds d) {
      timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>(d.count() % 1000) * 1000000};
      if (sigtimedwait(&signals, nullptr, &ts) > 0) {
        LOG_ERROR("worker", "second signal: exiting without a clean stop");
        std::_Exit(2);
      }
    };
    wait(graceful);
    // Kafka Connect's task.shutdown.graceful.timeout.ms: past it, requests still open (a
    // StarRocks that does not answer) are abandoned. Their rows were never committed, so
    // they are read again at the next start; what was loaded is committed as usual.
    LOG_WARN("worker", "graceful stop not finished within task.shutdown.graceful.timeout.ms=" << graceful.count()
                           << ": abandoning open StarRocks requests; their rows are not committed and will be "
                              "read again at the next start");
    stream_load::http_client::cancel_all();
    wait(margin);
    LOG_WARN("worker", "stop still not finished " << margin.count() << " ms later: exiting now; nothing uncommitted was acknowledged");
    std::_Exit(0);
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
