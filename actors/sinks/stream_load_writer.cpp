#include "actors/sinks/stream_load_writer.h"

#include "actors/sinks/dead_letter_queue.h"
#include "actors/sinks/writer_state.h"
#include "common/log.h"
#include "protocol/stream_load/label.h"

namespace starpipe::sinks {

using stream_load::retry_decision;

namespace writer_steps {

void start_new_body(writer_state& st) {
  st.encoder->start_body(st.body);
  st.body.reserve(static_cast<size_t>(st.settings.flush.max_batch_bytes) + 4096);
  st.body_rows = 0;
  st.body_pieces.clear();
  st.body_origins.clear();
}

void answer_waiters(writer_state& st, bool ok) {
  auto it = st.waiters.begin();
  while (it != st.waiters.end()) {
    if (!ok || st.loads_done >= it->first) {
      it->second.deliver(ok);
      it = st.waiters.erase(it);
    } else {
      ++it;
    }
  }
}

void send_attempt(self_ptr self);
void maybe_start_load(self_ptr self);
void send_prepare(self_ptr self);
bool on_rows_refused(self_ptr self, const std::string& reason, const std::optional<stream_load::load_response>& resp);
void probe_loaded(self_ptr self, const std::optional<stream_load::load_response>& resp);

void deliver_prepared(writer_state& st, prepared_checkpoint p) {
  if (!st.prepare_promise) return;
  st.prepare_promise->deliver(std::move(p));
  st.prepare_promise.reset();
}

void fail_writer(self_ptr self, const std::string& reason, const std::optional<stream_load::load_response>& resp) {
  auto& st = self->state;
  std::string where = "table " + st.settings.connector->database + "." + st.settings.table + ", label " +
                      st.request.label + ", " + std::to_string(st.request.rows) + " rows";
  st.failure = reason;
  std::vector<piece_id> pieces = st.request_pieces;
  for (const auto& s : st.sealed) pieces.insert(pieces.end(), s.pieces.begin(), s.pieces.end());
  pieces.insert(pieces.end(), st.body_pieces.begin(), st.body_pieces.end());
  auto report = [self, where, reason, pieces](const std::string& error_log) {
    auto& st = self->state;
    std::string text = "load failed for " + where + ": " + reason;
    if (!error_log.empty()) text += "\nStarRocks error log (first 3000 bytes):\n" + error_log;
    LOG_ERROR("writer", text);
    self->send(st.supervisor, failed_atom::value, st.settings.table, text, pieces);
  };
  self->become(st.failed);
  st.in_flight = false;
  st.rejecting.reset();
  answer_waiters(st, false);
  deliver_prepared(st, prepared_checkpoint{false, reason, {}, {}});
  if (resp && !resp->error_url.empty()) {
    LOG_ERROR("writer", "rejected rows of " << where << " are described at ErrorURL " << resp->error_url);
    self->request(st.executor, caf::infinite, errlog_atom::value, resp->error_url)
        .then([=](const std::string& log) { report(log); }, [=](caf::error&) { report(""); });
  } else {
    report("");
  }
}

// The load in flight is over: its pieces are acknowledged and the next load may start.
void finish_load(self_ptr self, const load_stats& stats) {
  auto& st = self->state;
  self->send(st.supervisor, loaded_atom::value, st.request_pieces, stats);
  st.in_flight = false;
  st.request_pieces.clear();
  st.request_origins.clear();
  st.request.body.reset();
  st.loads_done = st.loads_started;
  answer_waiters(st, true);
  self->become(st.idle);
  maybe_start_load(self);
}

void complete_load(self_ptr self, const std::optional<stream_load::load_response>& resp, const std::string& how) {
  auto& st = self->state;
  if (st.rejecting) return probe_loaded(self, resp);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - st.load_started).count();
  load_stats stats{st.settings.table, static_cast<int64_t>(st.request.rows),
                   static_cast<int64_t>(st.request.body->size()), resp ? resp->filtered_rows : 0, ms};
  LOG_INFO("writer", "loaded table=" << st.settings.connector->database << "." << st.settings.table
                                     << " rows=" << st.request.rows << " bytes=" << st.request.body->size()
                                     << " ms=" << ms << " label=" << st.request.label << " status=" << how
                                     << (st.attempt > 1 ? " attempts=" + std::to_string(st.attempt) : ""));
  if (resp && resp->filtered_rows > 0) {
    // Loaded, but some rows were rejected: say which and why, from StarRocks' error log.
    std::string head = "StarRocks filtered " + std::to_string(resp->filtered_rows) + " rows of table " +
                       st.settings.table + ", label " + st.request.label + " (within max_filter_ratio)";
    if (resp->error_url.empty()) {
      LOG_WARN("writer", head);
    } else {
      self->request(st.executor, caf::infinite, errlog_atom::value, resp->error_url)
          .then([head](const std::string& log) { LOG_WARN("writer", head << "; reasons:\n" << log); },
                [head, url = resp->error_url](caf::error&) { LOG_WARN("writer", head << "; reasons at " << url); });
    }
  }
  finish_load(self, stats);
}

void on_decision(self_ptr self, const retry_decision& d, const std::optional<stream_load::load_response>& resp);

void check_label(self_ptr self) {
  auto& st = self->state;
  self->request(st.executor, caf::infinite, state_atom::value, st.settings.connector->database, st.request.label)
      .then([self](const std::string& state) {
        auto& st = self->state;
        auto d = stream_load::decide_from_label_state(state.rfind("ERROR", 0) == 0 ? "" : state, st.attempt,
                                                      st.settings.retry);
        if (d.what == retry_decision::action::check_label && ++st.label_polls > 120) {
          d.what = retry_decision::action::retry; // still running after ~2 min: try the label again
          d.delay = st.settings.retry.max_backoff;
        }
        LOG_INFO("writer", "label " << st.request.label << " state " << state << ": " << d.reason);
        on_decision(self, d, std::nullopt);
      });
}

void on_decision(self_ptr self, const retry_decision& d, const std::optional<stream_load::load_response>& resp) {
  auto& st = self->state;
  switch (d.what) {
    case retry_decision::action::done:
      complete_load(self, resp, d.reason);
      return;
    case retry_decision::action::check_label:
      if (d.delay.count() > 0)
        self->delayed_send(self, d.delay, state_atom::value);
      else
        check_label(self);
      return;
    case retry_decision::action::retry: {
      // An unreachable StarRocks is waited for with growing (capped) pauses; it does not use
      // up the attempts sink.maxretries allows for answers.
      auto delay = d.delay;
      if (d.waiting_for_starrocks) {
        delay = stream_load::backoff_delay(++st.unreachable_streak, st.settings.retry);
        self->send(st.supervisor, retrying_atom::value, st.settings.table, d.reason);
      } else {
        st.unreachable_streak = 0;
      }
      LOG_WARN("writer", "load of table " << st.settings.table << " label " << st.request.label << " attempt "
                                          << st.attempt << " failed (" << d.reason << "); retrying in "
                                          << delay.count() << " ms with the same label");
      if (!d.waiting_for_starrocks) ++st.attempt;
      self->become(st.backing_off);
      self->delayed_send(self, delay, retry_atom::value);
      return;
    }
    case retry_decision::action::fail:
      if (!on_rows_refused(self, d.reason, resp)) fail_writer(self, d.reason, resp);
      return;
  }
}

// The answer that refused a transaction, when there was one (its ErrorURL explains rejected rows).
std::optional<stream_load::load_response> refusal_of(const stream_load::txn_result& r) {
  if (r.counters.status.empty()) return std::nullopt;
  return r.counters;
}

// Carries out the transaction's next step: a call or a label read goes to the executor, a
// wait is a delayed retry in the backing_off state (telling the supervisor when StarRocks is
// unreachable), as for a V1 load.
void txn_step(self_ptr self) {
  auto& st = self->state;
  using kind = stream_load::txn_step_request::kind;
  const auto& step = st.txn->next();
  switch (step.what) {
    case kind::call:
      self->become(st.flushing);
      self->request(st.executor, caf::infinite, load_atom::value, step.op, step.request)
          .then([self](const stream_load::attempt_outcome& o) {
            self->state.txn->answered(o);
            txn_step(self);
          });
      return;
    case kind::read_state:
      self->request(st.executor, caf::infinite, state_atom::value, step.request.database, step.request.label)
          .then([self](const std::string& state) {
            self->state.txn->state_read(state.rfind("ERROR", 0) == 0 ? "" : state);
            txn_step(self);
          });
      return;
    case kind::wait:
      if (step.waiting_for_starrocks) self->send(st.supervisor, retrying_atom::value, st.settings.table, step.why);
      self->become(st.backing_off);
      self->delayed_send(self, step.delay, retry_atom::value);
      return;
    case kind::finished: {
      auto result = st.txn->result();
      auto done = std::move(st.txn_done);
      st.txn.reset();
      st.txn_done = nullptr;
      done(result);
      return;
    }
  }
}

// Begins the transaction of `request` (commit_at_end: at-least-once over V2); `done` gets its result.
void start_transaction(self_ptr self, bool commit_at_end, std::function<void(const stream_load::txn_result&)> done) {
  auto& st = self->state;
  auto prefix = st.settings.label_prefix, table = st.settings.table;
  auto unique = st.settings.exactly_once ? st.settings.slot : st.token;
  auto labels = [prefix, table, unique](uint64_t n) { return stream_load::make_label(prefix, table, unique, n); };
  std::string where = "table " + st.request.database + "." + st.request.table + ": ";
  st.txn.emplace(st.request, labels, st.next_sequence, commit_at_end, st.settings.retry,
                 [where](const std::string& what) { LOG_WARN("writer", where << what); });
  st.txn_done = std::move(done);
  txn_step(self);
}

// Runs `next` once the load in flight knows its interface. AUTO asks the FE; when it cannot
// tell (unreachable, 5xx), at-least-once loads this batch over V1 and asks again next time,
// while exactly-once goes on with transactions (their own retries cover the outage).
void with_interface(self_ptr self, std::function<void()> next) {
  auto& st = self->state;
  if (st.transactions) {
    st.load_uses_transactions = *st.transactions;
    return next();
  }
  self->request(st.executor, caf::infinite, probe_atom::value, st.settings.connector->database)
      .then([self, next](const stream_load::interface_probe& p) {
        auto& st = self->state;
        const std::string& db = st.settings.connector->database;
        using stream_load::interface_support;
        if (p.support == interface_support::unknown) {
          LOG_WARN("writer", "sink.version=AUTO: cannot tell whether StarRocks has the transaction Stream Load "
                             "interface (" << p.evidence << "); table " << db << "." << st.settings.table
                                           << (st.settings.exactly_once ? " goes on with transactions"
                                                                        : " loads this batch over Stream Load V1"));
          st.load_uses_transactions = st.settings.exactly_once;
          return next();
        }
        st.transactions = p.support == interface_support::transactions;
        if (!*st.transactions && st.settings.exactly_once) {
          fail_writer(self,
                      "sink.semantic=exactly-once needs the transaction Stream Load interface (StarRocks 2.4 or "
                      "later), and the FE has none: " + p.evidence,
                      std::nullopt);
          return next(); // it sees the failure and answers with it
        }
        LOG_INFO("writer", "sink.version=AUTO: table " << db << "." << st.settings.table << " loads through "
                                                        << (*st.transactions ? "transaction Stream Load (V2)"
                                                                             : "Stream Load V1")
                                                        << "; the FE answered " << p.evidence);
        st.load_uses_transactions = *st.transactions;
        next();
      });
}

void send_attempt(self_ptr self) {
  auto& st = self->state;
  if (!st.failure.empty()) return;
  self->become(st.flushing);
  if (st.load_uses_transactions) { // retries happen inside, label by label
    // Exactly-once loads only come here as probes of a refused prepare: they are prepared too.
    start_transaction(self, !st.settings.exactly_once, [self](const stream_load::txn_result& r) {
      auto& st = self->state;
      st.next_sequence = r.sequence + 1;
      st.request.label = r.label;
      st.attempt = r.attempts;
      if (r.ok) {
        if (st.settings.exactly_once && st.rejecting)
          st.rejecting->prepared.push_back({st.settings.table, r.label, st.settings.slot, r.sequence});
        complete_load(self, r.counters, st.settings.exactly_once ? "prepared" : "committed");
      } else if (!on_rows_refused(self, r.failure, refusal_of(r))) {
        fail_writer(self, r.failure, refusal_of(r));
      }
    });
    return;
  }
  self->request(st.executor, caf::infinite, load_atom::value, st.request)
      .then([self](const stream_load::attempt_outcome& o) {
        auto& st = self->state;
        on_decision(self, stream_load::decide(o, st.attempt, st.settings.retry), o.response);
      });
}

// Starts `request` from a finished body under a new label.
void start_request(writer_state& st, std::string body_text, size_t rows, std::vector<piece_id> pieces,
                   row_origins origins) {
  auto body = std::make_shared<const std::string>(std::move(body_text));
  ++st.loads_started;
  auto label = stream_load::make_label(st.settings.label_prefix, st.settings.table, st.token, st.loads_started);
  st.request = stream_load::build_load_request(*st.settings.connector, st.settings.table, label, body, rows);
  st.request_pieces = std::move(pieces);
  st.request_origins = std::move(origins);
  st.in_flight = true;
  st.attempt = 1;
  st.unreachable_streak = 0;
  st.label_polls = 0;
  st.load_started = clock::now();
}

// Moves the filling body into `request` under a new label.
void take_body(writer_state& st) {
  st.encoder->finish_body(st.body);
  start_request(st, std::move(st.body), st.body_rows, std::move(st.body_pieces), std::move(st.body_origins));
  st.policy->on_flushed();
  st.policy->clear_request();
  st.body = std::string();
  start_new_body(st);
}

// The filling body, full, joins the queue; a new one starts.
void seal_body(writer_state& st) {
  st.encoder->finish_body(st.body);
  st.sealed.push_back({std::move(st.body), st.body_rows, std::move(st.body_pieces), std::move(st.body_origins)});
  st.policy->on_flushed(); // it now counts what the new body holds
  st.body = std::string();
  start_new_body(st);
}

void maybe_start_load(self_ptr self) {
  auto& st = self->state;
  if (st.in_flight || !st.failure.empty() || st.settings.exactly_once) return;
  if (!st.sealed.empty()) { // full bodies first, in the order they filled
    auto next = std::move(st.sealed.front());
    st.sealed.pop_front();
    start_request(st, std::move(next.body), next.rows, std::move(next.pieces), std::move(next.origins));
    LOG_DEBUG("writer", "flush table " << st.settings.table << " (a full body waited)");
    self->become(st.flushing);
    with_interface(self, [self] { send_attempt(self); });
    return;
  }
  auto reason = st.policy->due(clock::now());
  if (reason == flush_reason::none) return;
  take_body(st);
  LOG_DEBUG("writer", "flush table " << st.settings.table << " (" << to_string(reason) << ")");
  self->become(st.flushing);
  with_interface(self, [self] { send_attempt(self); });
}

// Exactly-once: the rows received so far become one prepared transaction; their pieces are
// acknowledged (so their offsets can be committed with the label) before the answer.
caf::result<prepared_checkpoint> prepare(self_ptr self) {
  auto& st = self->state;
  if (!st.failure.empty()) return prepared_checkpoint{false, st.failure, {}, {}};
  if (st.body_rows == 0) return prepared_checkpoint{};
  take_body(st);
  st.in_flight = true;
  auto rp = self->make_response_promise<prepared_checkpoint>();
  st.prepare_promise = rp;
  with_interface(self, [self] { send_prepare(self); });
  return rp;
}

void send_prepare(self_ptr self) {
  auto& st = self->state;
  if (!st.failure.empty()) return; // the probe found no transaction interface; answered
  start_transaction(self, false, [self](const stream_load::txn_result& r) {
    auto& st = self->state;
    st.next_sequence = r.sequence + 1;
    st.request.label = r.label;
    if (!r.ok) {
      if (!on_rows_refused(self, r.failure, refusal_of(r))) fail_writer(self, r.failure, refusal_of(r));
      return;
    }
    st.attempt = r.attempts;
    prepared_checkpoint out;
    out.labels.push_back({st.settings.table, r.label, st.settings.slot, r.sequence});
    complete_load(self, r.counters, "prepared");
    deliver_prepared(st, std::move(out));
  });
}

} // namespace writer_steps

using namespace writer_steps;

caf::behavior stream_load_writer(caf::stateful_actor<writer_state>* self, writer_settings settings,
                                 caf::actor supervisor, caf::actor executor) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  st.executor = std::move(executor);
  st.encoder = std::make_unique<stream_load::row_encoder>(st.settings.connector->format,
                                                          st.settings.connector->row_delimiter);
  st.policy = std::make_unique<flush_policy>(st.settings.flush);
  if (st.settings.load_interface != conf::load_interface::automatic)
    st.transactions = st.settings.load_interface == conf::load_interface::v2;
  start_new_body(st);
  self->link_to(st.executor); // the executor lives and dies with its writer

  auto on_fragment = [self](batch_atom, const row_fragment& f) {
    auto& st = self->state;
    if (!st.settings.exactly_once && st.body_rows > 0 &&
        static_cast<int64_t>(st.body.size() + f.data.size()) + 1 > st.settings.flush.max_batch_bytes)
      seal_body(st);
    st.encoder->append_fragment(st.body, f.data);
    st.body_rows += f.rows;
    st.body_pieces.push_back({f.stream, f.seq});
    st.body_origins.append(f.stream, f.offsets);
    st.policy->on_rows_added(static_cast<int64_t>(f.data.size()), clock::now(), static_cast<int64_t>(f.rows));
    st.not_caught_up.insert(f.stream);
    st.policy->set_caught_up(false);
    maybe_start_load(self);
  };
  auto on_caught_up = [self](caught_up_atom, const stream_id& stream) {
    auto& st = self->state;
    st.not_caught_up.erase(stream);
    st.policy->set_caught_up(st.not_caught_up.empty());
    maybe_start_load(self);
  };
  auto on_flush = [self](flush_atom) -> caf::result<bool> {
    auto& st = self->state;
    if (!st.failure.empty()) return false;
    if (st.settings.exactly_once) return true; // rows wait for the checkpoint's prepare
    uint64_t needed;
    if (st.body_rows > 0) {
      st.policy->request();
      needed = st.loads_started + st.sealed.size() + 1;
    } else if (!st.sealed.empty()) {
      needed = st.loads_started + st.sealed.size();
    } else if (st.in_flight) {
      needed = st.loads_started;
    } else {
      return true;
    }
    auto rp = self->make_response_promise<bool>();
    st.waiters.emplace_back(needed, rp);
    maybe_start_load(self);
    return rp;
  };
  auto on_tick = [self](tick_atom) {
    self->delayed_send(self, self->state.settings.tick, tick_atom::value);
    maybe_start_load(self);
  };
  auto on_state_poll = [self](state_atom) { check_label(self); };
  auto on_prepare = [self](prepare_atom) { return prepare(self); };
  // Exactly-once: the task took a fresh slot (a rebalance); its labels start over at 1. It
  // comes between checkpoints, when no transaction of this writer is open.
  auto on_slot = [self](slot_atom, const std::string& slot) {
    self->state.settings.slot = slot;
    self->state.next_sequence = 1;
  };

  st.idle = caf::behavior{on_fragment, on_caught_up, on_flush, on_tick, on_prepare, on_slot};
  st.flushing = caf::behavior{on_fragment, on_caught_up, on_flush, on_tick, on_state_poll, on_prepare, on_slot};
  st.backing_off = caf::behavior{on_fragment, on_caught_up, on_flush, on_tick, on_state_poll, on_prepare, on_slot,
                                 [self](retry_atom) {
                                   if (!self->state.txn) return send_attempt(self); // V1: the same label again
                                   self->state.txn->waited();
                                   txn_step(self);
                                 }};
  st.failed = caf::behavior{
      [](batch_atom, const row_fragment&) {}, // never acked: offsets cannot pass the failure
      [](caught_up_atom, const stream_id&) {},
      [](flush_atom) { return false; },
      [self](prepare_atom) { return prepared_checkpoint{false, self->state.failure, {}, {}}; },
      [](tick_atom) {},
      [](state_atom) {},
      [](retry_atom) {},
      [](slot_atom, const std::string&) {},
  };
  self->delayed_send(self, st.settings.tick, tick_atom::value);
  return st.idle;
}

caf::actor spawn_stream_load_writer(caf::actor_system& sys, writer_settings settings, caf::actor supervisor,
                                    caf::actor executor) {
  return sys.spawn(stream_load_writer, std::move(settings), std::move(supervisor), std::move(executor));
}

} // namespace starpipe::sinks
