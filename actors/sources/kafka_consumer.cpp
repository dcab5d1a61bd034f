#include "actors/sources/kafka_consumer.h"

#include <cstring>

#include "actors/sources/kafka_consumer_state.h"
#include "actors/sources/kafka_record_set.h"
#include "common/kafka_client.h"
#include "common/log.h"
#include "protocol/stream_load/flush_policy.h"

namespace starpipe::sources {

namespace kafka_steps {

// Records handed on but not loaded yet: three quarters of the budget (the rest is
// librdkafka's prefetch and fetch responses).
int64_t credit_limit(const kafka_consumer_settings& s) { return s.budget_bytes / 4 * 3; }


void set_paused(kafka_consumer_state& st, bool pause) {
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(st.rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned) return;
  if (assigned->cnt > 0) {
    if (pause)
      rd_kafka_pause_partitions(st.rk, assigned);
    else
      rd_kafka_resume_partitions(st.rk, assigned);
  }
  rd_kafka_topic_partition_list_destroy(assigned);
  st.paused = pause;
}

bool commit(kafka_consumer_state& st, const offset_map& offsets, bool only_assigned, bool sync) {
  if (offsets.empty()) return true;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [tp, off] : offsets) {
    if (only_assigned && !st.sources.count(tp)) continue;
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)->offset = off;
  }
  bool ok = true;
  if (list->cnt > 0) {
    auto err = rd_kafka_commit(st.rk, list, sync ? 0 : 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      LOG_WARN("consumer", st.id << " offset commit failed: " << rd_kafka_err2str(err));
      ok = false;
    } else {
      std::string text;
      for (int i = 0; i < list->cnt; ++i)
        text += std::string(i ? "," : "") + list->elems[i].topic + "-" + std::to_string(list->elems[i].partition) +
                "@" + std::to_string(list->elems[i].offset);
      LOG_DEBUG("consumer", st.id << " committed " << text);
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return ok;
}

void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<self_ptr>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  // Transient broker errors are retried by librdkafka itself; they are worth a warning.
  LOG_WARN("consumer", self->state.id << " kafka: " << rd_kafka_err2name(code) << ": " << reason);
}

std::string subscribe(kafka_consumer_state& st, const std::set<std::string>& topics) {
  rd_kafka_resp_err_t err;
  if (topics.empty()) {
    err = rd_kafka_unsubscribe(st.rk);
  } else {
    auto* sub = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const auto& t : topics) rd_kafka_topic_partition_list_add(sub, t.c_str(), RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(st.rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
  }
  if (err) return std::string("cannot subscribe: ") + rd_kafka_err2str(err);
  st.subscribed = topics;
  return {};
}

// topics.regex: the cluster's topics that fully match, subscribed when they changed. A
// metadata request that fails is retried on the next poll after a second.
std::string refresh_subscription(kafka_consumer_state& st) {
  using namespace std::chrono_literals;
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(st.rk, 1, nullptr, &md, 5000);
  if (err) {
    LOG_WARN("consumer", st.id << ": cannot list topics for topics.regex (" << rd_kafka_err2str(err)
                               << "); trying again");
    st.next_refresh = clock::now() + 1s;
    return {};
  }
  std::set<std::string> matched;
  for (int i = 0; i < md->topic_cnt; ++i)
    if (!md->topics[i].err && st.pattern->matches(md->topics[i].topic)) matched.insert(md->topics[i].topic);
  rd_kafka_metadata_destroy(md);
  st.next_refresh = clock::now() + 10s;
  if (matched == st.subscribed) return {};
  std::string names;
  for (const auto& t : matched) names += (names.empty() ? "" : ",") + t;
  LOG_INFO("consumer", st.id << ": topics.regex " << st.pattern->source() << " matches "
                             << (names.empty() ? "no topic yet" : names));
  return subscribe(st, matched);
}

std::string create_consumer(self_ptr self) {
  auto& st = self->state;
  const auto& c = *st.settings.connector;
  std::map<std::string, std::string> defaults = {
      {"client.id", "connector-consumer-" + c.name + "-" + std::to_string(st.settings.index)},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // Kafka's defaults before 3.0: a crashed worker's partitions move after 10 s, not 45 s
      // (librdkafka heartbeats from its own thread, so a busy task is not taken for dead).
      // A real broker hands a restarted static member its partitions at once.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "3000"},
      // librdkafka's prefetch queue and its fetch responses (kept alive while any record in
      // them is) are part of the memory budget: each gets an eighth of this consumer's share.
      {"queued.max.messages.kbytes",
       std::to_string(std::max<int64_t>(1024, std::min<int64_t>(65536, st.settings.budget_bytes / 8 / 1024)))},
      {"fetch.max.bytes", std::to_string(std::max<int64_t>(1 << 20, std::min<int64_t>(52428800, st.settings.budget_bytes / 8)))},
  };
  std::string error;
  st.rk = new_kafka_client(RD_KAFKA_CONSUMER, conf::task_consumer_settings(c, *st.settings.worker, st.settings.index, defaults), error,
                           [self](rd_kafka_conf_t* conf) {
                             rd_kafka_conf_set_opaque(conf, self);
                             rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
                             rd_kafka_conf_set_error_cb(conf, on_error);
                           });
  if (!st.rk) return "cannot create Kafka consumer: " + error;
  rd_kafka_poll_set_consumer(st.rk);
  st.queue = rd_kafka_queue_get_consumer(st.rk);
  if (c.semantic == conf::delivery::exactly_once)
  {
    st.exactly_once = std::make_unique<exactly_once_driver>(
        self->system(), st.supervisor, st.settings.index, st.id,
        std::make_unique<checkpoint::transaction_coordinator>(st.settings.connector, st.settings.worker->worker_id,
                                                              st.settings.index, st.id));
    st.positions = std::make_unique<kafka::kafka_position_store>(st.rk, st.id);
  }
  st.cooperative = std::strcmp(rd_kafka_rebalance_protocol(st.rk), "COOPERATIVE") == 0;

  if (c.topics_regex) {
    std::string problem;
    st.pattern = kafka::topic_pattern::compile(*c.topics_regex, problem);
    if (!st.pattern) return "topics.regex: " + problem;
    return refresh_subscription(st);
  }
  return subscribe(st, std::set<std::string>(c.topics.begin(), c.topics.end()));
}

void report_lag(self_ptr self) {
  auto& st = self->state;
  int64_t lag = 0;
  for (const auto& [tp, src] : st.sources) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(st.rk, tp.topic.c_str(), tp.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    auto* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
    rd_kafka_position(st.rk, list);
    int64_t pos = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    if (pos < 0) pos = low;
    if (high > pos) lag += high - pos;
  }
  self->send(st.supervisor, lag_atom::value, st.settings.index, lag, static_cast<int64_t>(st.sources.size()));
}

// The queue ran dry within a poll's wait: every partition fed since the last signal has been
// read to its current end. Sources pass this on behind their data, so writers need not wait
// for the buffer's age.

// Exactly-once rows load only at checkpoints. Besides the timer, a checkpoint comes when a
// body's worth of bytes is waiting, or when every partition is read to its end and at least
// a megabyte waits: the same moments at-least-once loads at.
void maybe_checkpoint_early(self_ptr self, bool caught_up) {
  auto& st = self->state;
  if (!st.exactly_once || st.closing || st.quiesced) return;
  int64_t body = sinks::batch_bytes_for(st.settings.connector->buffer_max_bytes);
  if (st.unprepared_bytes >= body || (caught_up && st.unprepared_bytes >= (1 << 20))) exactly_once_checkpoint(self, false);
}

void signal_caught_up(self_ptr self) {
  auto& st = self->state;
  for (const auto& tp : st.fed)
    if (auto it = st.sources.find(tp); it != st.sources.end()) self->send(it->second, caught_up_atom::value);
  st.fed.clear();
}

void poll_once(self_ptr self) {
  auto& st = self->state;
  constexpr int max_batch = 4096;
  rd_kafka_message_t* msgs[max_batch];
  auto n = rd_kafka_consume_batch_queue(st.queue, 50, msgs, max_batch);
  if (n <= 0) {
    signal_caught_up(self);
    maybe_checkpoint_early(self, true);
    return;
  }
  if (st.awaiting_first_records) {
    st.awaiting_first_records = false;
    LOG_INFO("consumer", st.id << " first records received after the assignment (" << n << " in this poll)");
  }
  struct partition_read {
    std::shared_ptr<kafka_record_set> records;
    int64_t bytes = 0;
  };
  std::map<topic_partition, partition_read> batches;
  int64_t spent = 0;
  // Records come in runs of one partition: look the batch up once per run, not per record.
  const rd_kafka_topic_t* run_topic = nullptr;
  int32_t run_partition = -1;
  partition_read* run = nullptr;
  for (ssize_t i = 0; i < n; ++i) {
    rd_kafka_message_t* m = msgs[i];
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        LOG_WARN("consumer", st.id << " consume error on " << (m->rkt ? rd_kafka_topic_name(m->rkt) : "?") << "-"
                                     << m->partition << ": " << rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->rkt != run_topic || m->partition != run_partition) {
      topic_partition tp{rd_kafka_topic_name(m->rkt), m->partition};
      run = &batches[tp];
      if (!run->records) run->records = std::make_shared<kafka_record_set>(tp.topic);
      run_topic = m->rkt;
      run_partition = m->partition;
    }
    auto& b = *run;
    b.records->add(m);
    // What a record costs while not loaded: its row text in a body, about its payload.
    int64_t bytes = static_cast<int64_t>(m->len + m->key_len) + 16;
    b.bytes += bytes;
    spent += bytes;
  }
  for (auto& [tp, b] : batches) {
    auto it = st.sources.find(tp);
    if (it == st.sources.end()) { // revoked meanwhile: the next owner reads these again
      spent -= b.bytes;
      continue;
    }
    record_batch batch{kafka::stream_of(tp), st.next_seq[tp]++, kafka::position_of_offset(b.records->last_offset()),
                       std::move(b.records), b.bytes};
    self->send(it->second, batch_atom::value, std::move(batch));
    st.fed.insert(tp);
  }
  if (n < max_batch) signal_caught_up(self);
  st.credit -= spent;
  st.unprepared_bytes += spent;
  if (st.credit <= 0 && !st.paused) {
    set_paused(st, true);
    // Exactly-once rows are only acknowledged when prepared: a checkpoint frees the memory.
    LOG_DEBUG("consumer", st.id << " out of credit: paused");
    self->send(st.supervisor, pressure_atom::value);
    if (st.exactly_once) exactly_once_checkpoint(self, false);
  } else {
    maybe_checkpoint_early(self, n < max_batch);
  }
}


} // namespace kafka_steps

using namespace kafka_steps;

caf::behavior kafka_consumer(caf::stateful_actor<kafka_consumer_state>* self, kafka_consumer_settings settings,
                             caf::actor supervisor) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  st.credit = credit_limit(st.settings);
  st.id = st.settings.connector->name + "-" + std::to_string(st.settings.index);
  if (auto error = create_consumer(self); !error.empty()) {
    LOG_ERROR("consumer", st.id << ": " << error);
    self->send(st.supervisor, failed_atom::value, error);
    self->quit();
    return {};
  }
  self->set_error_handler([self](caf::error& e) {
    LOG_WARN("consumer", self->state.id << " ignored error message: " << caf::to_string(e));
  });
  LOG_INFO("consumer", st.id << " joined group " << st.settings.connector->group_id());
  self->send(self, poll_atom::value);
  return {
      [self](poll_atom) {
        auto& st = self->state;
        if (st.closing || st.quiesced) return;
        poll_once(self);
        if (st.pattern && clock::now() >= st.next_refresh) {
          if (auto error = refresh_subscription(st); !error.empty()) LOG_WARN("consumer", st.id << ": " << error);
        }
        if (clock::now() - st.last_lag_report > std::chrono::seconds(2)) {
          st.last_lag_report = clock::now();
          report_lag(self);
        }
        self->send(self, poll_atom::value);
      },
      [self](credit_atom, int64_t bytes) {
        auto& st = self->state;
        st.credit += bytes;
        if (st.paused && !st.held && st.credit >= credit_limit(st.settings) / 2) {
          set_paused(st, false);
          LOG_DEBUG("consumer", st.id << " credit back: resumed");
          self->send(st.supervisor, relieved_atom::value);
        }
      },
      // The consumer keeps polling while held, so it stays in its group and keeps its partitions.
      [self](pause_atom) {
        auto& st = self->state;
        st.held = true;
        if (!st.paused) set_paused(st, true);
        LOG_INFO("consumer", st.id << " paused");
      },
      [self](resume_atom) {
        auto& st = self->state;
        st.held = false;
        if (st.paused && st.credit > 0) set_paused(st, false);
        LOG_INFO("consumer", st.id << " resumed");
      },
      [self](commit_atom, const position_map& positions) {
        return commit(self->state, kafka::offsets_after(positions), true);
      },
      [self](checkpoint_atom) {
        auto& st = self->state;
        if (st.exactly_once && !st.closing && !st.quiesced) exactly_once_checkpoint(self, false);
      },
      // After each load: commit what it covered without waiting for the broker, so a crash
      // replays at most the loads in flight, not a whole offset.flush.interval.ms.
      [self](commit_atom, const position_map& positions, bool /* async */) {
        commit(self->state, kafka::offsets_after(positions), true, false);
      },
      // Shutdown, step 1: stop polling and let every source hand on what it holds, so the
      // supervisor can load it and commit while the group is still stable (a member that
      // leaves first would put the group into a rebalance that refuses commits).
      [self](quiesce_atom) {
        auto& st = self->state;
        st.quiesced = true;
        barrier(self);
        return true;
      },
      [self](stop_atom) {
        auto& st = self->state;
        if (!st.closing) {
          st.closing = true;
          LOG_INFO("consumer", st.id << " leaving group");
          rd_kafka_consumer_close(st.rk); // revokes, which drains and commits
        }
        self->quit();
        return true;
      },
  };
}

caf::actor spawn_kafka_consumer(caf::actor_system& sys, kafka_consumer_settings settings, caf::actor supervisor) {
  return sys.spawn<caf::detached>(kafka_consumer, std::move(settings), std::move(supervisor));
}

} // namespace starpipe::sources
