// topics.regex as Kafka Connect reads it: a Java pattern matched against the whole name.
#include <doctest/doctest.h>

#include "protocol/kafka/topic_pattern.h"

using starpipe::kafka::topic_pattern;

namespace {
topic_pattern compiled(const std::string& re) {
  std::string error;
  auto p = topic_pattern::compile(re, error);
  REQUIRE_MESSAGE(p, re << ": " << error);
  return *p;
}
std::string refusal(const std::string& re) {
  std::string error;
  CHECK_FALSE(topic_pattern::compile(re, error));
  return error;
}
} // namespace

TEST_CASE("topics.regex: a full match, never a part of the name") {
  auto p = compiled("test[0-9]+");
  CHECK(p.matches("test1"));
  CHECK(p.matches("test22"));
  CHECK_FALSE(p.matches("test1extra"));
  CHECK_FALSE(p.matches("mytest1"));
  auto alt = compiled("test22|test1");
  CHECK(alt.matches("test1"));
  CHECK(alt.matches("test22"));
  CHECK_FALSE(alt.matches("mytest1")); // the alternation binds inside the full match
  CHECK_FALSE(alt.matches("test22x"));
  CHECK(compiled("^orders_.*$").matches("orders_eu")); // explicit anchors are harmless
}

TEST_CASE("topics.regex: Java syntax users write") {
  auto digits = compiled("test\\d+");
  CHECK(digits.matches("test12"));
  CHECK_FALSE(digits.matches("testd"));
  auto icase = compiled("(?i)orders_[a-z]+");
  CHECK(icase.matches("ORDERS_EU"));
  CHECK(icase.matches("orders_eu"));
  CHECK_FALSE(compiled("orders_[a-z]+").matches("ORDERS_EU"));
  auto quoted = compiled("\\Qa.b\\E.*");
  CHECK(quoted.matches("a.b-c"));
  CHECK_FALSE(quoted.matches("aXb-c"));
  CHECK(compiled("(?:a|b)x(?=y)y").matches("axy"));
  CHECK(compiled("a\\\\Z").matches("a\\Z")); // an escaped backslash, then a plain Z
}

TEST_CASE("topics.regex: Java-only constructs are refused by name") {
  CHECK(refusal("a(?<=b)").find("lookbehind") != std::string::npos);
  CHECK(refusal("(?<name>a)").find("named group") != std::string::npos);
  CHECK(refusal("a*+").find("possessive") != std::string::npos);
  CHECK(refusal("\\p{Alpha}+").find("Unicode class") != std::string::npos);
  CHECK(refusal("a(?i)b").find("inline flags") != std::string::npos);
  CHECK(refusal("a\\z").find("anchor") != std::string::npos);
  CHECK(refusal("([").find("not a valid regular expression") != std::string::npos);
}
