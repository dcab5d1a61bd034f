#include <regex>

#include "protocol/transforms/registry.h"
#include "protocol/transforms/transform_options.h"

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

std::vector<predicate_plugin> builtin_predicates() {
  const std::string base = "org.apache.kafka.connect.transforms.predicates.";
  auto option = [](const predicate_spec& spec, const std::string& k) {
    auto it = spec.options.find(k);
    return it == spec.options.end() ? std::string() : it->second;
  };
  return {
      {base + "TopicNameMatches",
       [option](const predicate_spec& spec, const conf::properties& p,
                conf::config_errors& errs) -> std::unique_ptr<predicate> {
         try {
           if (option(spec, "pattern").empty()) throw std::regex_error(std::regex_constants::error_space);
           return std::make_unique<topic_name_matches>(std::regex(option(spec, "pattern")));
         } catch (const std::regex_error&) {
           errs.add({p.source, "predicates." + spec.name + ".pattern", option(spec, "pattern"),
                     "must be a regular expression (predicate '" + spec.name + "', TopicNameMatches)"});
           return nullptr;
         }
       },
       &predicate_options("TopicNameMatches")},
      {base + "RecordIsTombstone",
       [](const predicate_spec&, const conf::properties&, conf::config_errors&) -> std::unique_ptr<predicate> {
         return std::make_unique<record_is_tombstone>();
       },
       &predicate_options("RecordIsTombstone")},
      {base + "HasHeaderKey",
       [option](const predicate_spec& spec, const conf::properties& p,
                conf::config_errors& errs) -> std::unique_ptr<predicate> {
         if (option(spec, "name").empty())
           errs.add({p.source, "predicates." + spec.name + ".name", "",
                     "is required (predicate '" + spec.name + "', HasHeaderKey)"});
         return std::make_unique<has_header_key>(option(spec, "name"));
       },
       &predicate_options("HasHeaderKey")},
  };
}

std::unique_ptr<predicate> make_predicate(const predicate_spec& spec, const conf::properties& p,
                                          conf::config_errors& errs) {
  if (const auto* plugin = find_predicate(spec.type)) {
    check_options(*plugin->options, spec.options, p.source, "predicates." + spec.name + ".",
                  "predicate '" + spec.name + "', " + spec.type, errs);
    return plugin->make(spec, p, errs);
  }
  errs.add({p.source, "predicates." + spec.name + ".type", spec.type,
            "unknown predicate class for predicate '" + spec.name + "'; available: " + predicate_class_list()});
  return nullptr;
}

} // namespace starpipe::transforms
