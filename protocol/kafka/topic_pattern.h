#pragma once
// topics.regex as Kafka Connect reads it: a java.util.regex.Pattern that must match the whole
// topic name (Matcher.matches()), not a part of it. Java syntax that ECMAScript (std::regex)
// shares is taken as is; a leading (?i) becomes case-insensitive matching and \Q...\E quoting
// is expanded; Java-only constructs are refused with their name instead of meaning something
// else. Matching is done here, so librdkafka only ever subscribes to exact topic names.
#include <optional>
#include <regex>
#include <string>

namespace starpipe::kafka {

class topic_pattern {
public:
  // nullopt and `error` set when the pattern cannot be used.
  static std::optional<topic_pattern> compile(const std::string& java_regex, std::string& error);

  bool matches(const std::string& topic) const { return std::regex_match(topic, re_); }
  const std::string& source() const { return source_; }

private:
  std::string source_;
  std::regex re_;
};

} // namespace starpipe::kafka
