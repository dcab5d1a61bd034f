#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <random>

#include "protocol/connect/json_scan.h"

using starpipe::connect::is_valid_json;

TEST_CASE("json scan: valid documents") {
  for (const char* s : {"{}", "[]", " {\"a\":1} ", "{\"a\":[1,2.5,-3e10,0,true,false,null,\"x\"],\"b\":{\"c\":{}}}",
                        "\"\\u00e9\\ud83d\\ude00\\n\"", "-0.0e+1", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "1"}) {
    CAPTURE(s);
    CHECK(is_valid_json(s));
  }
}

TEST_CASE("json scan: invalid documents") {
  for (const char* s : {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "1e", "tru", "nul",
                        "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1}{}", "[1 2]", "\"\t\"",
                        "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xff\"", "{\"a\":1}x"}) {
    CAPTURE(s);
    CHECK_FALSE(is_valid_json(s));
  }
  CHECK_FALSE(is_valid_json(std::string(600, '[') + std::string(600, ']'))); // depth limit
}

TEST_CASE("json scan: agrees with nlohmann::json::accept on mutated rows") {
  std::mt19937 rng(12345);
  const std::string seeds[] = {
      R"({"id":1,"city":"New York","score":12.5,"tags":["a","b"],"nested":{"ok":true,"none":null}})",
      R"([{"k":"\u00e9\n"},-0.5e-3,"caf\u00e9"])"};
  const std::string alphabet = "{}[]\",:\\ 0123456789.-+eEtrufalsn\x80\xc3\xa9\t";
  int compared = 0;
  for (const auto& seed : seeds) {
    for (int i = 0; i < 20000; ++i) {
      std::string s = seed;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t pos = rng() % s.size();
        switch (rng() % 3) {
          case 0: s.erase(pos, 1); break;
          case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          default: s[pos] = alphabet[rng() % alphabet.size()];
        }
        if (s.empty()) s = "x";
      }
      bool ours = is_valid_json(s);
      bool theirs = nlohmann::json::accept(s);
      if (ours != theirs) {
        CAPTURE(s);
        CHECK(ours == theirs);
      }
      ++compared;
    }
  }
  CHECK(compared == 40000);
}
