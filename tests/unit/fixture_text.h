#pragma once
// The text of a file in tests/fixtures/debezium (real Debezium change events), for the tests
// that read them; the test fails with the path when it is missing.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace starpipe::testing {

inline std::string fixture_text(const std::string& name) {
  std::ifstream in(STARPIPE_FIXTURES_DIR "/" + name);
  REQUIRE_MESSAGE(in.good(), "fixture " << name << " not found in " STARPIPE_FIXTURES_DIR);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace starpipe::testing
