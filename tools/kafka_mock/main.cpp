// kafka-mock: librdkafka's mock cluster (a real Kafka-protocol broker) on 127.0.0.1 for
// tests, the quickstart and the benchmark. Prints "bootstrap.servers=<list>" and runs until
// SIGTERM/SIGINT.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
const char* usage =
    "usage: kafka-mock [--brokers N] [--topic NAME:PARTITIONS ...]\n"
    "  Starts librdkafka's mock Kafka cluster on 127.0.0.1 and prints its bootstrap servers.\n"
    "  Topics not listed are auto-created (four partitions) on first use. Each partition keeps\n"
    "  only its newest few MB, so produce while consuming for large volumes.\n";
}

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage);
      return 0;
    }
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
      if (brokers < 1 || brokers > 16) {
        std::fprintf(stderr, "kafka-mock: --brokers must be in [1, 16]\n");
        return 1;
      }
    } else if (a == "--topic" && i + 1 < argc) {
      std::string spec = argv[++i];
      auto colon = spec.rfind(':');
      int parts = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
      std::string name = colon == std::string::npos ? spec : spec.substr(0, colon);
      if (name.empty() || parts < 1 || parts > 1000) {
        std::fprintf(stderr, "kafka-mock: --topic wants NAME:PARTITIONS with PARTITIONS in [1, 1000]\n");
        return 1;
      }
      topics.emplace_back(name, parts);
    } else {
      std::fprintf(stderr, "kafka-mock: unknown argument '%s'\n%s", a.c_str(), usage);
      return 1;
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "kafka-mock: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!cluster) {
    std::fprintf(stderr, "kafka-mock: cannot create the mock cluster\n");
    return 1;
  }
  for (const auto& [name, parts] : topics) {
    auto err = rd_kafka_mock_topic_create(cluster, name.c_str(), parts, 1);
    if (err) {
      std::fprintf(stderr, "kafka-mock: topic %s: %s\n", name.c_str(), rd_kafka_err2str(err));
      return 1;
    }
  }
  std::printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
