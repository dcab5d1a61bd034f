#pragma once
// Single Message Transforms as Kafka Connect chains them: `transforms=a,b`,
// `transforms.<alias>.type` and per-alias options. Plain code; the transform actors apply
// a chain to batches.
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/config_errors.h"
#include "protocol/connect/record.h"

namespace starpipe::transforms {

using connect::connect_record;
using connect::json;

// A record a transform cannot handle; the errors.tolerance policy decides what happens.
struct transform_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class transform {
public:
  virtual ~transform() = default;
  // nullopt: the record is dropped (as Connect's SMTs return null).
  virtual std::optional<connect_record> apply(connect_record r) const = 0;
};

// A predicate (`predicates=<name>`, `predicates.<name>.type`): TopicNameMatches,
// RecordIsTombstone, HasHeaderKey. A transform with `predicate` runs only on records it
// matches (`negate=true`: only on records it does not match).
struct predicate_spec {
  std::string name;
  std::string type;
  std::map<std::string, std::string> options;
};

struct transform_spec {
  std::string alias;
  std::string type;
  std::map<std::string, std::string> options; // transforms.<alias>.<key>, without the prefix
  std::optional<predicate_spec> predicate;
  bool negate = false;
};

class predicate {
public:
  virtual ~predicate() = default;
  virtual bool test(const connect_record& r) const = 0;
};

// One record's outcome of a chain applied to a batch, in the batch's order.
struct chain_result {
  int64_t offset = 0;
  std::optional<connect_record> record; // nullopt: dropped by a transform (or failed)
  std::string error;                    // set when a transform failed on it
};

// Reads `transforms` and `transforms.<alias>.*`; problems go to `errs` naming alias, class and key.
std::vector<transform_spec> read_transform_specs(const conf::properties& p, conf::config_errors& errs);

// Builds one transform; bad options are reported to `errs` (key transforms.<alias>.<option>).
std::unique_ptr<transform> make_transform(const transform_spec& spec, const conf::properties& p,
                                          conf::config_errors& errs);

// Builds a predicate; bad options go to `errs` (key predicates.<name>.<option>).
std::unique_ptr<predicate> make_predicate(const predicate_spec& spec, const conf::properties& p,
                                          conf::config_errors& errs);

class chain {
public:
  void add(std::string alias, std::unique_ptr<transform> t, std::unique_ptr<predicate> when = nullptr,
           bool negate = false) {
    steps_.push_back(step{std::move(alias), std::move(t), std::move(when), negate});
  }
  bool empty() const { return steps_.empty(); }
  // Throws transform_error prefixed with the alias that failed.
  std::optional<connect_record> apply(connect_record r) const;

private:
  struct step {
    std::string alias;
    std::unique_ptr<transform> t;
    std::unique_ptr<predicate> when;
    bool negate = false;
  };
  std::vector<step> steps_;
};

std::shared_ptr<const chain> build_chain(const std::vector<transform_spec>& specs);

// Applies the chain to each record of a batch, inline (a transform is a few microseconds of
// plain code: a separate actor would only add a hop); a failure is that record's outcome.
std::vector<chain_result> apply_to_batch(const chain& c, std::vector<connect_record> records);

// Helpers shared by transforms working on Debezium envelopes.
bool is_envelope(const connect_record& r);
std::string envelope_op(const connect_record& r);
// The schema of a struct's field, or null.
json field_schema(const json& struct_schema, const std::string& field);

} // namespace starpipe::transforms
