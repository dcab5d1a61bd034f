#pragma once
// The contract between a source and the pipeline (docs/architecture.md, "The source
// contract"). A source reads ordered streams (a Kafka topic-partition, a replication slot),
// hands them on as record batches, and is told what to commit. The pipeline never looks
// inside a position: it keeps the position of each batch until every row of that batch and
// of the batches before it is loaded, then hands it back to the source in a commit. Only the
// source knows that a Kafka position is the record's offset (committed as offset + 1) or that
// a PostgreSQL position is an LSN (confirmed to the slot).
//
// The messages (actors/messages.h): the source sends (batch_atom, record_batch) to the record
// stage of the stream; the pipeline sends the source (commit_atom, position_map) and
// (commit_atom, position_map, bool async), (pause_atom), (resume_atom), (quiesce_atom) -> bool
// (the barrier: read no more, answer once every stage handed on all it was given) and
// (stop_atom) -> bool.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace starpipe::pipeline {

// One ordered stream of a source. Errors name a record by (name, part, offset): Kafka Connect's
// topic, partition and offset, which is what a Kafka stream is.
struct stream_id {
  std::string name;
  int32_t part = 0;
  bool operator<(const stream_id& o) const { return std::tie(name, part) < std::tie(o.name, o.part); }
  bool operator==(const stream_id& o) const { return name == o.name && part == o.part; }
  std::string to_string() const { return name + "-" + std::to_string(part); }
};

// Where the source resumes once a record is done. Opaque: the pipeline stores it and hands it
// back, never compares it or computes with it.
struct source_position {
  int64_t token = -1;
  bool operator==(const source_position& o) const { return token == o.token; }
  bool operator!=(const source_position& o) const { return token != o.token; }
};

using position_map = std::map<stream_id, source_position>;

// One batch of a stream, or the piece of it one table's load covered.
struct piece_id {
  stream_id stream;
  uint64_t seq = 0;
};

// One record as the record stage reads it: the Connect coordinates (topic, partition, offset),
// the key and value bytes (null pointers for null), and the source's position.
struct record_view {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  const char* key = nullptr;
  size_t key_len = 0;
  const char* value = nullptr;
  size_t value_len = 0;
  source_position position;
};

using record_headers = std::vector<std::pair<std::string, std::string>>;

// The records of one batch, in stream order. A source implements it over whatever it read
// (librdkafka's messages without a copy, decoded WAL changes); the stage only reads it.
class record_set {
public:
  virtual ~record_set() = default;
  virtual size_t size() const = 0;
  virtual record_view at(size_t i) const = 0;
  // Needed only off the hot path (transforms, dead letters), so not part of the view.
  virtual int64_t timestamp(size_t i) const = 0;
  virtual record_headers headers(size_t i) const = 0;
};

// A record set that owns copies of its records: for sources that build records themselves
// and for tests.
struct owned_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::string> key, value;
  record_headers headers;
  source_position position;
};

class owned_record_set final : public record_set {
public:
  explicit owned_record_set(std::vector<owned_record> records) : records_(std::move(records)) {}
  size_t size() const override { return records_.size(); }
  record_view at(size_t i) const override {
    const auto& r = records_[i];
    record_view v;
    v.topic = r.topic;
    v.partition = r.partition;
    v.offset = r.offset;
    if (r.key) v.key = r.key->data(), v.key_len = r.key->size();
    if (r.value) v.value = r.value->data(), v.value_len = r.value->size();
    v.position = r.position;
    return v;
  }
  int64_t timestamp(size_t i) const override { return records_[i].timestamp; }
  record_headers headers(size_t i) const override { return records_[i].headers; }

private:
  std::vector<owned_record> records_;
};

} // namespace starpipe::pipeline
