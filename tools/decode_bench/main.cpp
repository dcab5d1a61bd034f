// decode-bench: the CPU cost per record of the schema'd JSON paths of the record stage, without
// Kafka or StarRocks: a Debezium change event (a JsonConverter envelope, schema included) is
// made into N records that differ in their id, then converted to StarRocks rows the two ways a
// connector does it: straight (no transforms) and through the StarRocks guide's
// `addfield,unwrap` transforms. Prints the best of five rounds in microseconds per record.
//
//   decode-bench tests/fixtures/debezium/mysql-create.json [records]
//
// A benchmark, not a test: it exits 0 whatever the figures (1 only when a record fails).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "conf/properties.h"
#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/record.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/transforms/transform.h"

using namespace starpipe;
using json = nlohmann::ordered_json;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: decode-bench <debezium-event.json> [records]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  auto event = json::parse(text.str(), nullptr, false);
  if (event.is_discarded() || !event.contains("payload") || !event["payload"].contains("after") ||
      !event["payload"]["after"].is_object()) {
    std::fprintf(stderr, "decode-bench: %s is not a Debezium event with an after image\n", argv[1]);
    return 2;
  }
  const int n = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20000;
  std::vector<std::string> records;
  for (int i = 0; i < n; ++i) {
    event["payload"]["after"]["id"] = i;
    records.push_back(event.dump());
  }

  conf::converter_spec spec;
  spec.schemas_enable = true;
  connect::record_converter straight(spec, conf::load_format::json);
  auto props = conf::parse_properties(
      "transforms=addfield,unwrap\n"
      "transforms.addfield.type=com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord\n"
      "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n",
      "decode-bench");
  conf::config_errors errs;
  auto chain = transforms::build_chain(transforms::read_transform_specs(props, errs));
  auto decoder = connect::make_converter(spec);
  connect::schema_cache plans(static_cast<size_t>(spec.schemas_cache_size));

  std::string rows, error;
  double best_straight = 1e9, best_transformed = 1e9;
  for (int round = 0; round < 5; ++round) {
    rows.clear();
    auto t0 = clock_type::now();
    for (const auto& r : records)
      if (straight.convert(r.data(), r.size(), rows, error) != connect::convert_status::row) {
        std::fprintf(stderr, "decode-bench: %s\n", error.c_str());
        return 1;
      }
    best_straight = std::min(best_straight, std::chrono::duration<double>(clock_type::now() - t0).count());

    rows.clear();
    t0 = clock_type::now();
    std::vector<connect::connect_record> batch(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      batch[i].topic = "bench";
      batch[i].offset = static_cast<int64_t>(i);
      if (!decoder->to_connect(records[i].data(), records[i].size(), batch[i].value, error)) {
        std::fprintf(stderr, "decode-bench: %s\n", error.c_str());
        return 1;
      }
    }
    connect::render_options opts;
    opts.plans = &plans;
    for (auto& res : transforms::apply_to_batch(*chain, std::move(batch)))
      if (res.record)
        if (auto row = connect::render_row(*res.record, opts, error)) rows += *row;
    best_transformed = std::min(best_transformed, std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  std::printf("%s: %d records of %zu bytes\n", argv[1], n, records[0].size());
  std::printf("  no transforms:   %.2f us/record\n", best_straight / n * 1e6);
  std::printf("  addfield,unwrap: %.2f us/record\n", best_transformed / n * 1e6);
  return 0;
}
