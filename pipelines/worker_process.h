#pragma once
// What both modes' processes do the same way: stop on SIGTERM/SIGINT taken by sigwait on the
// main thread, and give up on a clean stop after a second signal or a deadline.
#include <caf/all.hpp>

#include <chrono>
#include <csignal>
#include <memory>

namespace starpipe::pipelines {

// Blocks SIGTERM and SIGINT in this thread and every thread started after; returns the set.
sigset_t block_stop_signals();
// Waits for one of them; returns its name for the log.
const char* wait_for_stop_signal(const sigset_t& signals);
// From now on a second signal ends the process at once (exit 2). After `graceful` every open
// HTTP request is cancelled so the stop can finish; `margin` later the process exits (0: what
// was not loaded was not committed either).
void arm_shutdown_watchdog(const sigset_t& signals, std::chrono::milliseconds graceful,
                           std::chrono::milliseconds margin = std::chrono::seconds(5));
// An actor system that logs through starpipe's log, not CAF's.
std::unique_ptr<caf::actor_system_config> quiet_actor_system_config();

} // namespace starpipe::pipelines
