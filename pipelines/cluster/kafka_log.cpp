#include "pipelines/cluster/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/kafka_client.h"
#include "common/log.h"

namespace starpipe::pipelines::cluster {

namespace {

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* done = static_cast<std::promise<std::string>*>(m->_private);
  if (!done) return;
  done->set_value(m->err ? rd_kafka_err2str(m->err) : std::string());
  delete done;
}

} // namespace

struct kafka_log::impl {
  kafka_log_settings settings;
  callback on_record;
  rd_kafka_t* producer = nullptr;
  rd_kafka_t* reader = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable advanced;
  std::map<int32_t, int64_t> next_offset; // per partition: the offset the reader reads next
  int partitions = 0;

  ~impl() { close(); }

  std::map<std::string, std::string> client(const std::string& role) const {
    auto s = settings.client_settings;
    s["bootstrap.servers"] = settings.bootstrap_servers;
    s["client.id"] = settings.client_id + "-" + role;
    s["log_level"] = "3"; // the broker's feature notices are noise here; errors reach the error paths
    return s;
  }

  // Partition count from the broker; 0 when the topic does not exist.
  int partition_count(rd_kafka_t* rk, std::chrono::milliseconds timeout, std::string& error) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, settings.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, 0, rkt, &md, static_cast<int>(timeout.count()));
    rd_kafka_topic_destroy(rkt);
    if (err) {
      error = std::string("metadata of topic ") + settings.topic + ": " + rd_kafka_err2str(err);
      return -1;
    }
    int n = 0;
    if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
  }

  // CreateTopics with cleanup.policy=compact. Some brokers (librdkafka's mock among them)
  // never answer; then the topic is auto-created on first use, and the operator is told.
  void create_topic(std::chrono::milliseconds timeout) {
    char errstr[512];
    auto* nt = rd_kafka_NewTopic_new(settings.topic.c_str(), settings.partitions, settings.replication, errstr,
                                     sizeof errstr);
    if (!nt) {
      LOG_WARN("cluster", "cannot describe topic " << settings.topic << " for creation: " << errstr);
      return;
    }
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    auto* options = rd_kafka_AdminOptions_new(producer, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), errstr, sizeof errstr);
    auto* queue = rd_kafka_queue_new(producer);
    rd_kafka_CreateTopics(producer, &nt, 1, options, queue);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
    if (!ev) {
      LOG_WARN("cluster", "the broker did not answer CreateTopics for " << settings.topic
                                                                        << "; it is auto-created on first use (check that "
                                                                           "it is compacted: cleanup.policy=compact)");
    } else {
      std::string problem;
      if (rd_kafka_event_error(ev)) problem = rd_kafka_event_error_string(ev);
      if (const auto* res = rd_kafka_event_CreateTopics_result(ev)) {
        size_t n = 0;
        const auto** topics = rd_kafka_CreateTopics_result_topics(res, &n);
        for (size_t i = 0; i < n; ++i)
          if (auto e = rd_kafka_topic_result_error(topics[i]); e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            problem = rd_kafka_topic_result_error_string(topics[i]) ? rd_kafka_topic_result_error_string(topics[i])
                                                                     : rd_kafka_err2str(e);
      }
      if (problem.empty())
        LOG_INFO("cluster", "created compacted topic " << settings.topic << " (" << settings.partitions
                                                       << " partition(s), replication factor " << settings.replication << ")");
      else
        LOG_WARN("cluster", "creating topic " << settings.topic << ": " << problem);
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy(nt);
  }

  void read_loop() {
    while (!stopping) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(reader, 100);
      if (!m) continue;
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          LOG_WARN("cluster", "reading " << settings.topic << "-" << m->partition << ": " << rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      connect::stored_record r;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value = std::string(static_cast<const char*>(m->payload), m->len);
      try {
        on_record(r);
      } catch (const std::exception& e) {
        LOG_WARN("cluster", "record " << r.key << " of " << settings.topic << "-" << m->partition << " at offset "
                                      << m->offset << " skipped: " << e.what());
      }
      {
        std::lock_guard<std::mutex> g(mutex);
        next_offset[m->partition] = m->offset + 1;
      }
      advanced.notify_all();
      rd_kafka_message_destroy(m);
    }
  }

  void close() {
    stopping = true;
    if (thread.joinable()) thread.join();
    if (reader) {
      rd_kafka_consumer_close(reader);
      rd_kafka_destroy(reader);
      reader = nullptr;
    }
    if (producer) {
      rd_kafka_flush(producer, 5000);
      rd_kafka_destroy(producer);
      producer = nullptr;
    }
  }
};

kafka_log::kafka_log(kafka_log_settings settings, callback on_record) : impl_(std::make_unique<impl>()) {
  impl_->settings = std::move(settings);
  impl_->on_record = std::move(on_record);
}

kafka_log::~kafka_log() = default;

std::string kafka_log::open(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto ps = d.client("writer");
  ps["acks"] = "all";
  ps["enable.idempotence"] = "true"; // records of one key stay in order across retries
  ps["linger.ms"] = "0";
  std::string problem;
  d.producer = new_kafka_client(RD_KAFKA_PRODUCER, ps, problem,
                                [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, on_delivery); });
  if (!d.producer) return "topic " + d.settings.topic + ": producer: " + problem;
  auto cs = d.client("reader");
  // Assigned, never subscribed: the group id is required by librdkafka and never joined.
  cs["group.id"] = d.settings.client_id + "-reader";
  cs["enable.auto.commit"] = "false";
  cs["enable.partition.eof"] = "false";
  cs["allow.auto.create.topics"] = "false";
  cs["fetch.wait.max.ms"] = "50"; // a config change should reach every worker quickly
  d.reader = new_kafka_client(RD_KAFKA_CONSUMER, cs, problem);
  if (!d.reader) return "topic " + d.settings.topic + ": consumer: " + problem;

  std::string error;
  int n = d.partition_count(d.reader, timeout, error);
  if (n < 0) return error + " (is Kafka at " + d.settings.bootstrap_servers + " reachable?)";
  if (n == 0) {
    d.create_topic(std::min(timeout, std::chrono::milliseconds(5000)));
    // The producer's metadata request creates the topic where the broker auto-creates.
    for (int attempt = 0; attempt < 20 && n <= 0; ++attempt) {
      n = d.partition_count(d.producer, timeout, error);
      if (n <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (n <= 0) return "topic " + d.settings.topic + " does not exist and could not be created: " + error;
  }
  d.partitions = n;
  if (d.settings.single_partition_writes && n > 1)
    LOG_WARN("cluster", "topic " << d.settings.topic << " has " << n
                                 << " partitions; it should have exactly 1 (starpipe writes to partition 0 only, "
                                    "Kafka Connect refuses such a topic)");
  auto* list = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p)
    rd_kafka_topic_partition_list_add(list, d.settings.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  auto err = rd_kafka_assign(d.reader, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return "topic " + d.settings.topic + ": cannot read it: " + rd_kafka_err2str(err);
  d.thread = std::thread([this] { impl_->read_loop(); });
  return {};
}

std::string kafka_log::write(const connect::stored_record& r, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto* done = new std::promise<std::string>();
  auto result = done->get_future();
  void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr; // null: a tombstone
  size_t value_size = r.value ? r.value->size() : 0;
  auto err = rd_kafka_producev(d.producer, RD_KAFKA_V_TOPIC(d.settings.topic.c_str()),
                               RD_KAFKA_V_PARTITION(d.settings.single_partition_writes ? 0 : RD_KAFKA_PARTITION_UA),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                               RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_OPAQUE(done), RD_KAFKA_V_END);
  if (err) {
    delete done;
    return "writing " + r.key + " to topic " + d.settings.topic + ": " + rd_kafka_err2str(err);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (result.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline)
      return "writing " + r.key + " to topic " + d.settings.topic + ": no acknowledgement within " +
             std::to_string(timeout.count()) + " ms";
    rd_kafka_poll(d.producer, 20);
  }
  auto problem = result.get();
  if (!problem.empty()) return "writing " + r.key + " to topic " + d.settings.topic + ": " + problem;
  return {};
}

bool kafka_log::catch_up(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<int32_t, int64_t> ends;
  for (int p = 0; p < d.partitions; ++p) {
    int64_t low = 0, high = 0;
    auto err = rd_kafka_query_watermark_offsets(d.reader, d.settings.topic.c_str(), p, &low, &high,
                                                static_cast<int>(timeout.count()));
    if (err) return false;
    if (high > low) ends[p] = high;
  }
  std::unique_lock<std::mutex> lock(d.mutex);
  return d.advanced.wait_until(lock, deadline, [&] {
    for (const auto& [p, end] : ends) {
      auto it = d.next_offset.find(p);
      if (it == d.next_offset.end() || it->second < end) return false;
    }
    return true;
  });
}

void kafka_log::close() { impl_->close(); }

} // namespace starpipe::pipelines::cluster
