#include "actors/checkpoint/supervisor.h"

#include <optional>

#include "actors/messages.h"
#include "actors/sinks/dead_letter_queue.h"
#include "actors/sinks/load_executor.h"
#include "actors/sinks/stream_load_writer.h"
#include "actors/sources/kafka_consumer.h"
#include "common/log.h"
#include "protocol/checkpoint/checkpointer.h"
#include "protocol/checkpoint/connector_status.h"

namespace starpipe::checkpoint {

using clock = std::chrono::steady_clock;

// The connector's root: it starts the sources, the writers and the dead-letter queue, routes
// what they report to the checkpointer (what to commit) and the status (what to show), fails
// the task, and stops it. States, as become() behaviors:
//   running  -> paused (PUT /pause) -> running (PUT /resume)
//   running | paused -> stopping (shutdown) -> quit
// Each state is its own handlers before the handlers every state shares.
struct supervisor_state {
  supervisor_settings settings;
  checkpointer checkpoints{false};
  std::optional<connector_status> status;
  // By (task, table); at-least-once tasks share one writer per table (task 0).
  std::map<std::pair<int, std::string>, caf::actor> writers;
  std::map<int, std::string> slots; // exactly-once: each task's current writer slot
  std::vector<caf::actor> sources;
  caf::actor dead_letters; // errors.deadletterqueue.topic.name under errors.tolerance=all
  bool flushing_for_pressure = false;
  std::vector<caf::response_promise> stopped; // answered once the connector stopped
  caf::behavior running, paused, stopping;
  static inline const char* name = "supervisor";
};

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;

const std::string& connector_name(self_ptr self) { return self->state.settings.connector->name; }

void give_back_credit(self_ptr self) {
  auto& st = self->state;
  for (const auto& [owner, bytes] : st.checkpoints.take_credit())
    if (owner >= 0 && owner < static_cast<int>(st.sources.size()) && bytes > 0)
      self->send(st.sources[owner], credit_atom::value, bytes);
}

// Sends `request` to every actor of `to`, which answer bool; `done(all_ok)` runs once all
// answered (an error answer counts as not ok).
template <class... Ts>
void ask_all(self_ptr self, const std::vector<caf::actor>& to, std::function<void(bool)> done, Ts... request) {
  if (to.empty()) {
    done(true);
    return;
  }
  auto pending = std::make_shared<size_t>(to.size());
  auto all_ok = std::make_shared<bool>(true);
  for (const auto& a : to)
    self->request(a, caf::infinite, request...)
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

std::vector<caf::actor> all_writers(self_ptr self) {
  std::vector<caf::actor> out;
  for (const auto& [key, w] : self->state.writers) out.push_back(w);
  return out;
}

// Asks every writer to load what it holds; `done(all_ok)` runs when all answered.
void flush_all(self_ptr self, std::function<void(bool)> done) {
  ask_all(self, all_writers(self), std::move(done), flush_atom::value);
}

void commit(self_ptr self, const position_map& positions, std::function<void()> done) {
  if (positions.empty()) return done();
  ask_all(self, self->state.sources, [done](bool) { done(); }, commit_atom::value, positions);
}

void fail_task(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  if (!st.status->fail(reason)) return;
  LOG_ERROR("supervisor", "connector " << connector_name(self)
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
  const bool exactly_once = st.checkpoints.exactly_once();
  std::pair<int, std::string> key{exactly_once ? task : 0, table};
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
  ws.exactly_once = exactly_once;
  ws.dead_letters = st.dead_letters;
  if (exactly_once) ws.slot = st.slots[task]; // set by the task's consumer before any row is read
  auto w = sinks::spawn_stream_load_writer(self->system(), ws, caf::actor_cast<caf::actor>(self), executor);
  self->link_to(w);
  st.writers[key] = w;
  LOG_INFO("supervisor", "writer for " << c.database << "." << table << " started (FE " << c.fe_urls.front()
                                       << (c.fe_urls.size() > 1 ? ", ..." : "") << ")");
  return w;
}

// Exactly-once, phase one for one task: its writers prepare; the answer carries their labels
// and the positions their rows reach on the task's streams.
caf::result<prepared_checkpoint> prepare_task(self_ptr self, int task, const std::vector<stream_id>& streams) {
  auto& st = self->state;
  auto rp = self->make_response_promise<prepared_checkpoint>();
  std::vector<caf::actor> writers;
  for (const auto& [key, w] : st.writers)
    if (key.first == task) writers.push_back(w);
  auto result = std::make_shared<prepared_checkpoint>();
  auto finish = [self, rp, result, streams]() mutable {
    if (result->ok) result->positions = self->state.checkpoints.positions_of(streams);
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

// Every offset.flush.interval.ms while running or paused. At-least-once: writers flush, then
// every committable position is committed. Exactly-once: each source runs its own two-phase
// checkpoint (prepare through the supervisor, then commit with the labels).
void periodic_checkpoint(self_ptr self) {
  auto& st = self->state;
  if (st.checkpoints.exactly_once()) {
    for (const auto& c : st.sources) self->send(c, checkpoint_atom::value);
  } else {
    flush_all(self, [self](bool) { commit(self, self->state.checkpoints.checkpoint(), [] {}); });
  }
  self->delayed_send(self, std::chrono::milliseconds(st.settings.worker->offset_flush_interval_ms),
                     checkpoint_atom::value);
}

// PUT /pause and /resume: sources stop or start fetching; buffered rows are kept and loaded.
void hold(self_ptr self, bool pause) {
  auto& st = self->state;
  for (const auto& c : st.sources)
    self->send(c, pause ? caf::make_message(pause_atom::value) : caf::make_message(resume_atom::value));
  LOG_INFO("supervisor", "connector " << connector_name(self)
                                      << (pause ? " PAUSED (buffered rows are kept and loaded)" : " resumed"));
  st.status->hold(pause, clock::now());
  self->become(pause ? st.paused : st.running);
}

void tick(self_ptr self, bool expected_to_load) {
  auto& st = self->state;
  auto now = clock::now();
  st.status->report(st.checkpoints.outstanding_bytes(), now);
  st.status->watch_for_stall(expected_to_load, st.checkpoints.outstanding_bytes(),
                             st.settings.worker->task_stall_timeout_ms, now);
  self->delayed_send(self, st.settings.progress_interval, tick_atom::value);
}

// Stopping, step 4: the connector stopped; answer every shutdown request and quit.
void stopped(self_ptr self) {
  auto& st = self->state;
  st.status->report(st.checkpoints.outstanding_bytes(), clock::now());
  LOG_INFO("supervisor", "connector " << connector_name(self) << " stopped");
  for (auto& rp : st.stopped) rp.deliver(!st.status->failed());
  st.stopped.clear();
  for (auto& [key, w] : st.writers) self->unlink_from(w), self->send_exit(w, caf::exit_reason::user_shutdown);
  self->quit();
}

// Stopping, step 3: sources give their streams up (under exactly-once the revoke runs each
// task's last two-phase checkpoint) and quit.
void leave(self_ptr self) {
  ask_all(self, self->state.sources, [self](bool) { stopped(self); }, stop_atom::value);
}

// Stopping: 1. sources read no more and hand on everything read (the barrier); 2. at-least-once:
// writers load it and every committable position is committed while the group is stable;
// 3. leave; 4. stopped.
void stop(self_ptr self, caf::response_promise rp) {
  auto& st = self->state;
  st.stopped.push_back(std::move(rp));
  st.checkpoints.drain();
  self->become(st.stopping);
  // From here a source that ends is one that was told to.
  self->set_down_handler([](caf::down_msg&) {});
  LOG_INFO("supervisor", "connector " << connector_name(self) << " stopping: loading buffered rows and "
                                                                 "committing offsets");
  ask_all(self, st.sources, [self](bool) {
    if (self->state.checkpoints.exactly_once()) return leave(self);
    flush_all(self, [self](bool) { commit(self, self->state.checkpoints.checkpoint(), [self] { leave(self); }); });
  }, quiesce_atom::value);
}

// The handlers every state has: what sources, stages and writers report.
caf::message_handler reports(self_ptr self) {
  return {
      [self](register_atom, const stream_id& stream, uint64_t seq, source_position last, int parts, int64_t bytes,
             int owner) {
        auto& st = self->state;
        st.checkpoints.on_batch(stream, seq, last, parts, bytes, owner);
        st.status->topic_seen(stream.name);
        give_back_credit(self);
      },
      [self](loaded_atom, const std::vector<piece_id>& pieces, const load_stats& stats) {
        auto& st = self->state;
        auto now_committable = st.checkpoints.on_loaded(pieces);
        st.status->loaded({stats.rows, stats.bytes, stats.filtered_rows, stats.millis},
                          st.checkpoints.outstanding_bytes(), clock::now());
        give_back_credit(self);
        if (!now_committable.empty())
          for (const auto& c : st.sources) self->send(c, commit_atom::value, now_committable, true);
      },
      [self](failed_atom, const std::string& table, const std::string& reason, const std::vector<piece_id>& pieces) {
        self->state.checkpoints.on_failed(pieces, reason);
        self->state.status->load_failed();
        fail_task(self, "loading table " + table + " failed: " + reason);
      },
      [self](failed_atom, const stream_id&, int64_t, const std::string& reason) { fail_task(self, reason); },
      [self](failed_atom, const std::string& reason) { fail_task(self, reason); },
      // StarRocks is unreachable and a load waits for it: RUNNING, with the reason in the
      // task trace and a gauge, until a load succeeds again.
      [self](retrying_atom, const std::string& table, const std::string& reason) {
        self->state.status->retrying(table, reason);
      },
      [self](writer_atom, const std::string& table, int task) { return writer_for(self, table, task); },
      [self](prepare_atom, int task, const std::vector<stream_id>& streams) { return prepare_task(self, task, streams); },
      [self](slot_atom, int task, const std::string& slot) {
        auto& st = self->state;
        st.slots[task] = slot;
        for (const auto& [key, w] : st.writers)
          if (key.first == task) self->send(w, slot_atom::value, slot);
      },
      [self](forget_atom, const std::vector<stream_id>& streams) {
        self->state.checkpoints.forget(streams);
        give_back_credit(self);
      },
      [self](handoff_atom, const std::vector<stream_id>& streams) -> caf::result<position_map> {
        auto rp = self->make_response_promise<position_map>();
        flush_all(self, [self, rp, streams](bool) mutable {
          auto positions = self->state.checkpoints.hand_off(streams); // the source commits them right now
          give_back_credit(self);
          rp.deliver(positions);
        });
        return rp;
      },
      [self](lag_atom, int task, int64_t lag, int64_t streams) {
        self->state.status->lag(task, lag, streams, self->state.checkpoints.outstanding_bytes());
      },
      [self](relieved_atom) { self->state.status->credit(false); },
  };
}

// Credit is spent: writers load what they hold, so that finished loads give it back.
// (Exactly-once: the source's own checkpoint frees it.)
void relieve_pressure(self_ptr self) {
  auto& st = self->state;
  st.status->credit(true);
  if (st.flushing_for_pressure || st.checkpoints.exactly_once()) return;
  st.flushing_for_pressure = true;
  flush_all(self, [self](bool) { self->state.flushing_for_pressure = false; });
}

} // namespace

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, supervisor_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  const auto& c = *st.settings.connector;
  st.checkpoints = checkpointer(c.semantic == conf::delivery::exactly_once);
  st.status.emplace(st.settings.registry, c.name, clock::now());
  // bufferflush.maxbytes bounds all record bytes the connector holds: per consumer share,
  // an eighth for librdkafka's prefetch, an eighth for its fetch responses, and three
  // quarters as credit for records not yet loaded.
  int64_t share = std::max<int64_t>(c.buffer_max_bytes / c.tasks_max, 1 << 20);
  if (!c.dlq_topic.empty() && c.errors_tolerate_all) {
    sinks::dead_letter_settings ds;
    ds.bootstrap_servers = st.settings.worker->bootstrap_servers;
    ds.producer_settings = st.settings.worker->producer_settings;
    ds.consumer_settings = st.settings.worker->consumer_settings;
    ds.topic = c.dlq_topic;
    ds.context_headers = c.dlq_context_headers;
    ds.connector = c.name;
    st.dead_letters = sinks::spawn_dead_letter_queue(self->system(), ds);
    self->link_to(st.dead_letters);
  }
  for (int i = 0; i < c.tasks_max; ++i) {
    auto me = caf::actor_cast<caf::actor>(self);
    if (st.settings.make_source) {
      st.sources.push_back(st.settings.make_source(self->system(), i, me, st.dead_letters));
      continue;
    }
    sources::kafka_consumer_settings ks;
    ks.connector = st.settings.connector;
    ks.worker = st.settings.worker;
    ks.index = i;
    ks.budget_bytes = share;
    ks.dead_letters = st.dead_letters;
    st.sources.push_back(sources::spawn_kafka_consumer(self->system(), ks, me));
  }
  st.status->started(c.raw, c.tasks_max);
  for (const auto& source : st.sources) self->monitor(source);
  // CAF's defaults answer a stray message with an error that kills the sender; a pipeline
  // logs it instead.
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
    LOG_WARN("supervisor", "ignored unexpected message " << caf::to_string(x.content()));
    return caf::message{};
  });
  self->set_error_handler([](caf::error& e) { LOG_WARN("supervisor", "ignored error message: " << caf::to_string(e)); });
  // A source that ends before shutdown (its Kafka client failed, or a bug) fails the task
  // instead of leaving its streams silently unread.
  self->set_down_handler([self](caf::down_msg& msg) {
    for (const auto& source : self->state.sources)
      if (source.address() == msg.source) {
        fail_task(self, "a Kafka consumer of the connector stopped: " + self->system().render(msg.reason));
        return;
      }
  });
  auto interval = std::chrono::milliseconds(st.settings.worker->offset_flush_interval_ms);
  self->delayed_send(self, interval, checkpoint_atom::value);
  self->delayed_send(self, st.settings.progress_interval, tick_atom::value);
  LOG_INFO("supervisor", "connector " << c.name << " started: " << c.tasks_max << " task(s), group " << c.group_id()
                                      << ", offsets committed every " << interval.count() << " ms");

  const caf::message_handler shared = reports(self);
  auto shutdown = [self](shutdown_atom) -> caf::result<bool> {
    auto rp = self->make_response_promise<bool>();
    stop(self, rp);
    return rp;
  };
  st.running = caf::message_handler{
      [self](checkpoint_atom) { periodic_checkpoint(self); },
      [self](pause_atom) { hold(self, true); },
      [](resume_atom) {},
      [self](pressure_atom) { relieve_pressure(self); },
      [self](tick_atom) { tick(self, true); },
      shutdown,
  }.or_else(shared);
  st.paused = caf::message_handler{
      [self](checkpoint_atom) { periodic_checkpoint(self); },
      [](pause_atom) {},
      [self](resume_atom) { hold(self, false); },
      [self](pressure_atom) { relieve_pressure(self); },
      [self](tick_atom) { tick(self, false); },
      shutdown,
  }.or_else(shared);
  st.stopping = caf::message_handler{
      [](checkpoint_atom) {}, // the last checkpoint is the shutdown's own
      [](pause_atom) {},
      [](resume_atom) {},
      [self](pressure_atom) { self->state.status->credit(true); }, // everything is being flushed already
      [](retrying_atom, const std::string&, const std::string&) {}, // the shutdown ends the wait
      [self](tick_atom) { tick(self, false); },
      [self](shutdown_atom) -> caf::result<bool> { // answered with the first
        auto rp = self->make_response_promise<bool>();
        self->state.stopped.push_back(rp);
        return rp;
      },
  }.or_else(shared);
  return st.running;
}

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings settings) {
  return sys.spawn(supervisor, std::move(settings));
}

} // namespace starpipe::checkpoint
