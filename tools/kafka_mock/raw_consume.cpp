// raw-consume: the benchmark's baseline, a minimal librdkafka consumer that reads a topic
// to nowhere until it has seen N messages, then prints the count and seconds taken.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: raw-consume BOOTSTRAP TOPIC COUNT\n");
    return 1;
  }
  long long want = std::atoll(argv[3]);
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const char* v) { rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr); };
  set("bootstrap.servers", argv[1]);
  set("group.id", ("raw-consume-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())).c_str());
  set("auto.offset.reset", "earliest");
  set("enable.auto.commit", "false");
  set("fetch.wait.max.ms", "10");
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "raw-consume: %s\n", errstr);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  auto* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, argv[2], RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  long long seen = 0, bytes = 0;
  auto start = std::chrono::steady_clock::time_point{};
  bool started = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (seen < want && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      if (!started) {
        started = true;
        start = std::chrono::steady_clock::now();
      }
      ++seen;
      bytes += static_cast<long long>(m->len);
    }
    rd_kafka_message_destroy(m);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%lld %lld %.6f\n", seen, bytes, secs);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return seen == want ? 0 : 1;
}
