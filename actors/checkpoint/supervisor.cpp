#include "actors/checkpoint/supervisor.h"

#include <iomanip>
#include <set>

#include "actors/messages.h"
#include "actors/sinks/dead_letter_queue.h"
#include "protocol/checkpoint/connector_health.h"
#include "protocol/checkpoint/position_tracker.h"
#include "actors/sinks/load_executor.h"
#include "actors/sinks/stream_load_writer.h"
#include "actors/sources/kafka_consumer.h"
#include "protocol/exactly_once/checkpoint_record.h"
#include "common/log.h"

namespace starpipe::checkpoint {

using clock = std::chrono::steady_clock;

struct supervisor_state {
  supervisor_settings settings;
  position_tracker tracker;
  // By (task, table); at-least-once tasks share one writer per table (task 0).
  std::map<std::pair<int, std::string>, caf::actor> writers;
  bool exactly_once = false;
  std::map<int, std::string> slots; // exactly-once: each task's current writer slot
  std::vector<caf::actor> sources;
  caf::actor dead_letters; // errors.deadletterqueue.topic.name under errors.tolerance=all
  std::map<int, int64_t> lag;
  bool failed = false;
  std::string failure;
  bool stopping = false;
  bool paused = false;
  bool flushing_for_pressure = false;
  std::set<std::string> topics_seen;
  checkpoint::connector_health health{clock::now()};
  static inline const char* name = "supervisor";
};

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;

void give_back_credit(self_ptr self) {
  auto& st = self->state;
  for (const auto& [owner, bytes] : st.tracker.take_released_bytes())
    if (owner >= 0 && owner < static_cast<int>(st.sources.size()) && bytes > 0)
      self->send(st.sources[owner], credit_atom::value, bytes);
}

// Asks every writer to load what it holds; `done(all_ok)` runs when all answered.
void flush_all(self_ptr self, std::function<void(bool)> done) {
  auto& st = self->state;
  if (st.writers.empty()) {
    done(true);
    return;
  }
  auto pending = std::make_shared<size_t>(st.writers.size());
  auto all_ok = std::make_shared<bool>(true);
  for (const auto& [key, w] : st.writers) {
    self->request(w, caf::infinite, flush_atom::value)
        .then(
            [=](bool ok) {
              *all_ok = *all_ok && ok;
              if (--*pending == 0) done(*all_ok);
            },
            [=](caf::error&) {
              *all_ok = false;
              if (--*pending == 0) done(false);
            });
  }
}

void commit_checkpoint(self_ptr self) {
  auto& st = self->state;
  st.tracker.take_advanced();
  auto advanced = st.tracker.all_committable();
  if (advanced.empty()) return;
  for (const auto& c : st.sources)
    self->request(c, caf::infinite, commit_atom::value, advanced).then([](bool) {}, [](caf::error&) {});
}

template <class F>
void publish(self_ptr self, F&& f) {
  auto& st = self->state;
  if (st.settings.registry) st.settings.registry->update(st.settings.connector->name, std::forward<F>(f));
}

void fail_task(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  if (st.failed) return;
  st.failed = true;
  st.failure = reason;
  publish(self, [&](pipelines::connector_view& v) {
    for (auto& t : v.tasks) {
      t.state = "FAILED";
      t.trace = "org.apache.kafka.connect.errors.ConnectException: " + reason;
    }
  });
  LOG_ERROR("supervisor", "connector " << st.settings.connector->name
                                       << " task FAILED; it stops consuming, commits the offsets of everything "
                                          "loaded before the failure and waits for a restart. Cause: "
                                       << reason);
  // Leaving the group drains each partition: rows loaded before the failure get committed.
  for (const auto& c : st.sources) self->request(c, caf::infinite, stop_atom::value).then([](bool) {});
}

// At-least-once: one writer per table for all tasks. Exactly-once: one per task and table,
// so that a task's offset commit decides exactly its own transactions.
caf::actor writer_for(self_ptr self, const std::string& table, int task) {
  auto& st = self->state;
  std::pair<int, std::string> key{st.exactly_once ? task : 0, table};
  auto it = st.writers.find(key);
  if (it != st.writers.end()) return it->second;
  const auto& c = *st.settings.connector;
  auto executor = st.settings.make_executor ? st.settings.make_executor(self->system())
                                            : sinks::spawn_load_executor(self->system(), stream_load::client_settings_for(c));
  sinks::writer_settings ws;
  ws.table = table;
  ws.connector = st.settings.connector;
  ws.flush.max_batch_bytes = sinks::batch_bytes_for(c.buffer_max_bytes);
  ws.flush.interval = std::chrono::milliseconds(c.buffer_interval_ms);
  ws.flush.max_rows = c.buffer_max_rows;
  ws.retry.max_retries = c.max_retries;
  ws.label_prefix = c.label_prefix;
  ws.tick = st.settings.writer_tick;
  ws.load_interface = c.version; // exactly-once with V1 is refused by the configuration
  ws.exactly_once = st.exactly_once;
  ws.dead_letters = st.dead_letters;
  if (st.exactly_once) ws.slot = st.slots[task]; // set by the task's consumer before any row is read
  auto w = sinks::spawn_stream_load_writer(self->system(), ws, caf::actor_cast<caf::actor>(self), executor);
  self->link_to(w);
  st.writers[key] = w;
  LOG_INFO("supervisor", "writer for " << c.database << "." << table << " started (FE " << c.fe_urls.front()
                                       << (c.fe_urls.size() > 1 ? ", ..." : "") << ")");
  return w;
}

int64_t total_lag(const supervisor_state& st) {
  int64_t lag = 0;
  for (const auto& [i, l] : st.lag) lag += l;
  return lag;
}

void report_progress(self_ptr self) {
  auto& st = self->state;
  auto r = st.health.take_report(clock::now());
  int64_t lag = total_lag(st);
  if (r.rows_since > 0 || lag > 0)
    LOG_INFO("supervisor", "connector " << st.settings.connector->name << ": " << std::fixed << std::setprecision(1)
                                        << r.rows_per_second << " rows/s, " << st.health.rows_total() << " rows in "
                                        << st.health.loads_total() << " loads, lag " << lag << ", buffered "
                                        << st.tracker.outstanding_bytes() << " bytes" << (st.failed ? ", FAILED" : ""));
}

// A task that loads nothing while records wait in Kafka must not look healthy: say so in the
// log, in the task status' trace and in the starpipe_stalled gauge, until a load succeeds.
void watch_for_stall(self_ptr self) {
  auto& st = self->state;
  if (st.failed || st.stopping || st.paused) {
    st.health.not_expected_to_load(clock::now());
    return;
  }
  auto stalled = st.health.check_stall(total_lag(st), st.tracker.outstanding_bytes(),
                                       st.settings.worker->task_stall_timeout_ms, clock::now());
  if (!stalled) return;
  const std::string& why = *stalled;
  LOG_WARN("supervisor", "connector " << st.settings.connector->name << ": " << why);
  publish(self, [&](pipelines::connector_view& v) {
    v.metrics.stalled = 1;
    for (auto& t : v.tasks) t.trace = why;
  });
}

void progress_made(self_ptr self, int64_t rows) {
  auto& st = self->state;
  auto ended = st.health.on_loaded(rows, clock::now());
  if (ended.wait_ended) {
    LOG_INFO("supervisor", "connector " << st.settings.connector->name << ": StarRocks answers again");
    publish(self, [&](pipelines::connector_view& v) {
      v.metrics.waiting_for_starrocks = 0;
      for (auto& t : v.tasks)
        if (t.state == "RUNNING" && t.trace.rfind("Retrying: ", 0) == 0) t.trace.clear();
    });
  }
  if (!ended.stall_ended) return;
  LOG_INFO("supervisor", "connector " << st.settings.connector->name << ": loading again, no longer stalled");
  publish(self, [&](pipelines::connector_view& v) {
    v.metrics.stalled = 0;
    for (auto& t : v.tasks)
      if (t.state == "RUNNING") t.trace.clear();
  });
}

// PUT /pause and /resume: sources stop or start fetching; buffered rows are kept and loaded.
void hold(self_ptr self, bool pause) {
  auto& st = self->state;
  if (st.paused == pause || st.stopping) return;
  st.paused = pause;
  if (!pause) st.health.not_expected_to_load(clock::now()); // a pause is not a stall
  for (const auto& c : st.sources) self->send(c, pause ? caf::make_message(pause_atom::value) : caf::make_message(resume_atom::value));
  const char* state = pause ? "PAUSED" : "RUNNING";
  LOG_INFO("supervisor", "connector " << st.settings.connector->name
                                      << (pause ? " PAUSED (buffered rows are kept and loaded)" : " resumed"));
  publish(self, [state](pipelines::connector_view& v) {
    v.state = state;
    for (auto& t : v.tasks)
      if (t.state != "FAILED") t.state = state;
  });
}

void checkpoint(self_ptr self) {
  auto& st = self->state;
  if (st.exactly_once) { // each source runs its own two-phase checkpoint
    for (const auto& c : st.sources) self->send(c, checkpoint_atom::value);
    return;
  }
  flush_all(self, [self](bool) { commit_checkpoint(self); });
}

// Exactly-once, phase one for one task: its writers prepare; the answer carries their labels
// and the offsets their rows reach on the task's partitions.
caf::result<prepared_checkpoint> prepare_task(self_ptr self, int task, const std::vector<stream_id>& streams) {
  auto& st = self->state;
  auto rp = self->make_response_promise<prepared_checkpoint>();
  std::vector<caf::actor> writers;
  for (const auto& [key, w] : st.writers)
    if (key.first == task) writers.push_back(w);
  auto result = std::make_shared<prepared_checkpoint>();
  auto finish = [self, rp, result, streams]() mutable {
    auto& st = self->state;
    if (result->ok)
      for (const auto& s : streams)
        if (auto p = st.tracker.committable(s)) result->positions[s] = *p;
    rp.deliver(*result);
  };
  if (writers.empty()) {
    finish();
    return rp;
  }
  auto pending = std::make_shared<size_t>(writers.size());
  for (const auto& w : writers)
    self->request(w, caf::infinite, prepare_atom::value)
        .then(
            [=](const prepared_checkpoint& p) mutable {
              if (!p.ok) result->ok = false, result->failure = p.failure;
              result->labels.insert(result->labels.end(), p.labels.begin(), p.labels.end());
              if (--*pending == 0) finish();
            },
            [=](caf::error& e) mutable {
              result->ok = false;
              result->failure = "a writer did not answer: " + caf::to_string(e);
              if (--*pending == 0) finish();
            });
  return rp;
}

} // namespace

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, supervisor_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  const auto& c = *st.settings.connector;
  st.exactly_once = c.semantic == conf::delivery::exactly_once;
  // bufferflush.maxbytes bounds all record bytes the connector holds: per consumer share,
  // an eighth for librdkafka's prefetch, an eighth for its fetch responses, and three
  // quarters as credit for records not yet loaded.
  int64_t share = std::max<int64_t>(c.buffer_max_bytes / c.tasks_max, 1 << 20);
  caf::actor dead_letters;
  if (!c.dlq_topic.empty() && c.errors_tolerate_all) {
    sinks::dead_letter_settings ds;
    ds.bootstrap_servers = st.settings.worker->bootstrap_servers;
    ds.producer_settings = st.settings.worker->producer_settings;
    ds.consumer_settings = st.settings.worker->consumer_settings;
    ds.topic = c.dlq_topic;
    ds.context_headers = c.dlq_context_headers;
    ds.connector = c.name;
    dead_letters = sinks::spawn_dead_letter_queue(self->system(), ds);
    self->link_to(dead_letters);
    st.dead_letters = dead_letters;
  }
  for (int i = 0; i < c.tasks_max; ++i) {
    auto me = caf::actor_cast<caf::actor>(self);
    if (st.settings.make_source) {
      st.sources.push_back(st.settings.make_source(self->system(), i, me, dead_letters));
      continue;
    }
    sources::kafka_consumer_settings ks;
    ks.connector = st.settings.connector;
    ks.worker = st.settings.worker;
    ks.index = i;
    ks.budget_bytes = share;
    ks.dead_letters = dead_letters;
    st.sources.push_back(sources::spawn_kafka_consumer(self->system(), ks, me));
  }
  if (st.settings.registry) {
    pipelines::connector_view v;
    v.name = c.name;
    v.config = c.raw;
    v.state = "RUNNING";
    for (int i = 0; i < c.tasks_max; ++i) v.tasks.push_back({i, "RUNNING", "", ""});
    st.settings.registry->put(std::move(v));
  }
  for (const auto& cons : st.sources) self->monitor(cons);
  // CAF's defaults answer a stray message with an error that kills the sender; a pipeline
  // logs it instead.
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
    LOG_WARN("supervisor", "ignored unexpected message " << caf::to_string(x.content()));
    return caf::message{};
  });
  self->set_error_handler([](caf::error& e) { LOG_WARN("supervisor", "ignored error message: " << caf::to_string(e)); });
  // A consumer that ends before shutdown (its Kafka client failed, or a bug) fails the task
  // instead of leaving its partitions silently unconsumed.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.stopping) return;
    for (const auto& c : st.sources)
      if (c.address() == msg.source) {
        fail_task(self, "a Kafka consumer of the connector stopped: " + self->system().render(msg.reason));
        return;
      }
  });
  auto interval = std::chrono::milliseconds(st.settings.worker->offset_flush_interval_ms);
  self->delayed_send(self, interval, commit_atom::value);
  self->delayed_send(self, st.settings.progress_interval, tick_atom::value);
  LOG_INFO("supervisor", "connector " << c.name << " started: " << c.tasks_max << " task(s), group " << c.group_id()
                                      << ", offsets committed every " << interval.count() << " ms");

  return {
      [self](register_atom, const stream_id& stream, uint64_t seq, source_position last, int parts, int64_t bytes,
             int owner) {
        auto& st = self->state;
        st.tracker.register_batch(stream, seq, last, parts, bytes, owner);
        if (st.topics_seen.insert(stream.name).second)
          publish(self, [&](pipelines::connector_view& v) { v.topics.insert(stream.name); });
        give_back_credit(self);
      },
      [self](loaded_atom, const std::vector<piece_id>& pieces, const load_stats& stats) {
        auto& st = self->state;
        for (const auto& p : pieces) st.tracker.ack(p.stream, p.seq);
        progress_made(self, stats.rows);
        give_back_credit(self);
        publish(self, [&](pipelines::connector_view& v) {
          v.metrics.total_flush_bytes += stats.bytes;
          v.metrics.total_flush_rows += stats.rows;
          v.metrics.total_flush_succeeded_times += 1;
          v.metrics.total_filtered_rows += stats.filtered_rows;
          v.metrics.last_load_latency_ms = stats.millis;
          v.metrics.buffered_bytes = st.tracker.outstanding_bytes();
        });
        if (!st.stopping && !st.exactly_once) {
          auto advanced = st.tracker.take_advanced();
          if (!advanced.empty())
            for (const auto& c : st.sources) self->send(c, commit_atom::value, advanced, true);
        }
      },
      [self](failed_atom, const std::string& table, const std::string& reason, const std::vector<piece_id>& pieces) {
        auto& st = self->state;
        for (const auto& p : pieces) st.tracker.fail(p.stream, p.seq, reason);
        publish(self, [](pipelines::connector_view& v) { v.metrics.total_flush_failed_times += 1; });
        fail_task(self, "loading table " + table + " failed: " + reason);
      },
      [self](failed_atom, const stream_id&, int64_t, const std::string& reason) { fail_task(self, reason); },
      // StarRocks is unreachable and a load waits for it: RUNNING, with the reason in the
      // task trace and a gauge, until a load succeeds again.
      [self](retrying_atom, const std::string& table, const std::string& reason) {
        auto& st = self->state;
        if (st.failed || st.stopping) return;
        st.health.on_waiting_for_starrocks();
        const std::string why = "Retrying: loading table " + table + ": " + reason;
        publish(self, [&](pipelines::connector_view& v) {
          v.metrics.waiting_for_starrocks = 1;
          for (auto& t : v.tasks)
            if (t.state == "RUNNING") t.trace = why;
        });
      },
      [self](failed_atom, const std::string& reason) { fail_task(self, reason); },
      [self](writer_atom, const std::string& table, int task) { return writer_for(self, table, task); },
      [self](prepare_atom, int task, const std::vector<stream_id>& streams) { return prepare_task(self, task, streams); },
      [self](slot_atom, int task, const std::string& slot) {
        auto& st = self->state;
        st.slots[task] = slot;
        for (const auto& [key, w] : st.writers)
          if (key.first == task) self->send(w, slot_atom::value, slot);
      },
      [self](forget_atom, const std::vector<stream_id>& streams) {
        auto& st = self->state;
        for (const auto& s : streams) st.tracker.forget(s);
        st.tracker.take_advanced();
        give_back_credit(self);
      },
      [self](handoff_atom, const std::vector<stream_id>& streams) -> caf::result<position_map> {
        auto rp = self->make_response_promise<position_map>();
        flush_all(self, [self, rp, streams](bool) mutable {
          auto& st = self->state;
          position_map out;
          for (const auto& s : streams) {
            if (auto p = st.tracker.committable(s)) out[s] = *p;
            st.tracker.forget(s);
          }
          st.tracker.take_advanced(); // committed by the source itself, right now
          give_back_credit(self);
          rp.deliver(out);
        });
        return rp;
      },
      [self](pressure_atom) {
        auto& st = self->state;
        if (st.flushing_for_pressure || st.exactly_once) return;
        st.flushing_for_pressure = true;
        flush_all(self, [self](bool) { self->state.flushing_for_pressure = false; });
      },
      [self](lag_atom, int index, int64_t lag) {
        auto& st = self->state;
        st.lag[index] = lag;
        int64_t total = 0;
        for (const auto& [i, l] : st.lag) total += l;
        publish(self, [&](pipelines::connector_view& v) {
          v.metrics.task_lag[index] = lag;
          v.metrics.consumer_lag = total;
          v.metrics.buffered_bytes = st.tracker.outstanding_bytes();
        });
      },
      [self](commit_atom) {
        auto& st = self->state;
        if (st.stopping) return;
        checkpoint(self);
        self->delayed_send(self, std::chrono::milliseconds(st.settings.worker->offset_flush_interval_ms),
                           commit_atom::value);
      },
      [self](pause_atom) { hold(self, true); },
      [self](resume_atom) { hold(self, false); },
      [self](tick_atom) {
        report_progress(self);
        watch_for_stall(self);
        self->delayed_send(self, self->state.settings.progress_interval, tick_atom::value);
      },
      [self](shutdown_atom) -> caf::result<bool> {
        auto& st = self->state;
        st.stopping = true;
        auto rp = self->make_response_promise<bool>();
        LOG_INFO("supervisor", "connector " << st.settings.connector->name << " stopping: loading buffered rows and "
                                                                                "committing offsets");
        // 1. sources stop polling and hand everything on; 2. writers load it; 3. offsets are
        // committed by each consumer while the group is stable; 4. sources leave the group.
        auto sources = st.sources;
        auto leave = [self, rp, sources]() mutable {
          auto pending = std::make_shared<size_t>(sources.size());
          auto done = [self, rp, pending]() mutable {
            if (--*pending > 0) return;
            report_progress(self);
            LOG_INFO("supervisor", "connector " << self->state.settings.connector->name << " stopped");
            rp.deliver(!self->state.failed);
            for (auto& [t, w] : self->state.writers) self->unlink_from(w), self->send_exit(w, caf::exit_reason::user_shutdown);
            self->quit();
          };
          if (sources.empty()) {
            ++*pending;
            done();
          }
          for (const auto& c : sources)
            self->request(c, caf::infinite, stop_atom::value).then([=](bool) mutable { done(); },
                                                                   [=](caf::error&) mutable { done(); });
        };
        auto commit_then_leave = [self, sources, leave]() mutable {
          auto advanced = self->state.tracker.all_committable();
          auto pending = std::make_shared<size_t>(sources.size());
          if (sources.empty() || advanced.empty()) return leave();
          for (const auto& c : sources)
            self->request(c, caf::infinite, commit_atom::value, advanced)
                .then([=](bool) mutable { if (--*pending == 0) leave(); },
                      [=](caf::error&) mutable { if (--*pending == 0) leave(); });
        };
        auto pending = std::make_shared<size_t>(sources.size());
        // Exactly-once: leaving the group revokes, and the revoke runs the last checkpoint.
        auto flushed = [self, commit_then_leave, leave]() mutable {
          if (self->state.exactly_once) return leave();
          flush_all(self, [commit_then_leave](bool) mutable { commit_then_leave(); });
        };
        if (sources.empty()) flushed();
        for (const auto& c : sources)
          self->request(c, caf::infinite, quiesce_atom::value)
              .then([=](bool) mutable { if (--*pending == 0) flushed(); },
                    [=](caf::error&) mutable { if (--*pending == 0) flushed(); });
        return rp;
      },
  };
}

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings settings) {
  return sys.spawn(supervisor, std::move(settings));
}

} // namespace starpipe::checkpoint
