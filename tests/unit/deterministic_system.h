#pragma once
// An actor system under CAF's deterministic test coordinator: nothing runs until the test
// runs it (sched->run(), run_once()), and timers fire only when the test triggers them.
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <memory>

namespace starpipe::testing {

struct deterministic_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

  deterministic_system() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }
};

} // namespace starpipe::testing
