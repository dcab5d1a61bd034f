#pragma once
// What a connector shows while it runs: its connector and task states and traces over REST,
// its /metrics figures and its progress log line. The supervisor tells it what happened (a
// load finished, a load waits for StarRocks, the task failed, the sources paused); it keeps
// the health (stalls, waits) and lag that decide what is shown, and publishes into the
// registry the REST API reads. Plain code: no actor, no clock of its own (time is passed in).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/connector_registry.h"
#include "protocol/checkpoint/connector_health.h"

namespace starpipe::checkpoint {

class connector_status {
public:
  using clock = connector_health::clock;

  // registry may be null (nothing is published, the log line still is).
  connector_status(std::shared_ptr<pipelines::connector_registry> registry, std::string connector,
                   clock::time_point now);

  // The connector runs `tasks` tasks, all RUNNING.
  void started(const std::map<std::string, std::string>& config, int tasks);
  // A batch of stream `topic` went through the pipeline (GET /connectors/x/topics).
  void topic_seen(const std::string& topic);

  struct load {
    int64_t rows = 0, bytes = 0, filtered_rows = 0, millis = 0;
  };
  // A load succeeded; `buffered` is what is still held. Ends a stall or a wait for StarRocks.
  void loaded(const load& l, int64_t buffered, clock::time_point now);
  void load_failed();
  // A load of `table` waits for StarRocks: RUNNING with the reason as trace until a load
  // succeeds. Nothing changes once the connector failed.
  void retrying(const std::string& table, const std::string& reason);
  // Every task FAILED with `reason`. False when the connector had already failed (the first
  // cause is the one shown).
  bool fail(const std::string& reason);
  // PUT /pause (true) or /resume (false).
  void hold(bool paused, clock::time_point now);
  // A task's lag, in records, and how many streams it reads.
  void lag(int task, int64_t records, int64_t streams, int64_t buffered);
  // A source spent its memory credit and paused (true), or read again (false).
  void credit(bool spent);

  // The periodic progress line, when there is something to say.
  void report(int64_t buffered, clock::time_point now);
  // Marks the connector stalled (log, trace, starpipe_stalled) when nothing loaded for
  // timeout_ms while records wait; a paused, stopping or failed connector is not stalled.
  void watch_for_stall(bool expected_to_load, int64_t buffered, int64_t timeout_ms, clock::time_point now);

  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  int64_t total_lag() const;

private:
  template <class F>
  void publish(F&& f) {
    if (registry_) registry_->update(connector_, std::forward<F>(f));
  }

  std::shared_ptr<pipelines::connector_registry> registry_;
  std::string connector_;
  connector_health health_;
  std::map<int, int64_t> lag_;
  std::set<std::string> topics_;
  bool failed_ = false;
  std::string failure_;
};

} // namespace starpipe::checkpoint
