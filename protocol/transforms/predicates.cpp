#include <regex>

#include "protocol/transforms/transform.h"

namespace starpipe::transforms {

namespace {

class topic_name_matches : public predicate {
public:
  explicit topic_name_matches(std::regex re) : re_(std::move(re)) {}
  bool test(const connect_record& r) const override { return std::regex_match(r.topic, re_); }

private:
  std::regex re_;
};

class record_is_tombstone : public predicate {
public:
  bool test(const connect_record& r) const override { return !r.value; }
};

class has_header_key : public predicate {
public:
  explicit has_header_key(std::string name) : name_(std::move(name)) {}
  bool test(const connect_record& r) const override {
    for (const auto& [k, v] : r.headers)
      if (k == name_) return true;
    return false;
  }

private:
  std::string name_;
};

} // namespace

std::unique_ptr<predicate> make_predicate(const predicate_spec& spec, const conf::properties& p,
                                          conf::config_errors& errs) {
  const std::string prefix = "predicates." + spec.name + ".";
  auto option = [&](const std::string& k) {
    auto it = spec.options.find(k);
    return it == spec.options.end() ? std::string() : it->second;
  };
  const std::string base = "org.apache.kafka.connect.transforms.predicates.";
  if (spec.type == base + "TopicNameMatches") {
    try {
      if (option("pattern").empty()) throw std::regex_error(std::regex_constants::error_space);
      return std::make_unique<topic_name_matches>(std::regex(option("pattern")));
    } catch (const std::regex_error&) {
      errs.add({p.source, prefix + "pattern", option("pattern"),
                "must be a regular expression (predicate '" + spec.name + "', TopicNameMatches)"});
      return nullptr;
    }
  }
  if (spec.type == base + "RecordIsTombstone") return std::make_unique<record_is_tombstone>();
  if (spec.type == base + "HasHeaderKey") {
    if (option("name").empty())
      errs.add({p.source, prefix + "name", "", "is required (predicate '" + spec.name + "', HasHeaderKey)"});
    return std::make_unique<has_header_key>(option("name"));
  }
  errs.add({p.source, prefix + "type", spec.type,
            "unknown predicate class for predicate '" + spec.name + "'; available: " + base + "TopicNameMatches, " +
                base + "RecordIsTombstone, " + base + "HasHeaderKey"});
  return nullptr;
}

} // namespace starpipe::transforms
