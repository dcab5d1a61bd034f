#include <doctest/doctest.h>

#include "conf/properties.h"

#include <cstdlib>
#include <fstream>

using starpipe::conf::parse_properties;

TEST_CASE("properties: separators, comments and blank lines") {
  auto p = parse_properties("# comment\n! also comment\n\n  a=1\nb = 2\nc: 3\nd 4\ne\n  f   =   spaced value  \n");
  CHECK(p.get("a") == "1");
  CHECK(p.get("b") == "2");
  CHECK(p.get("c") == "3");
  CHECK(p.get("d") == "4");
  CHECK(p.get("e") == "");
  CHECK(p.get("f") == "spaced value  "); // trailing blanks belong to the value, as in Java
  CHECK_FALSE(p.has("#"));
  CHECK(p.entries().size() == 6);
}

TEST_CASE("properties: backslash continuation joins lines and drops leading blanks") {
  auto p = parse_properties("topics=a,\\\n    b,\\\n    c\nnext=x\n");
  CHECK(p.get("topics") == "a,b,c");
  CHECK(p.get("next") == "x");
  CHECK(p.line_of("topics") == 1);
  CHECK(p.line_of("next") == 4);
}

TEST_CASE("properties: an even number of trailing backslashes is no continuation") {
  auto p = parse_properties("path=C:\\\\\nother=1\n");
  CHECK(p.get("path") == "C:\\");
  CHECK(p.get("other") == "1");
}

TEST_CASE("properties: escapes in keys and values") {
  auto p = parse_properties("key\\=with\\:seps=v\\tx\\ny\nuni=caf\\u00e9\ncolon\\ key=1\n");
  CHECK(p.get("key=with:seps") == "v\tx\ny");
  CHECK(p.get("uni") == "caf\xc3\xa9");
  CHECK(p.get("colon key") == "1");
}

TEST_CASE("properties: CRLF and CR line ends; last duplicate wins") {
  auto p = parse_properties("a=1\r\nb=2\rA=3\r\na=4");
  CHECK(p.get("a") == "4");
  CHECK(p.get("b") == "2");
  CHECK(p.get("A") == "3"); // keys are case-sensitive
  CHECK(p.line_of("a") == 4);
}

TEST_CASE("properties: prefix selection") {
  auto p = parse_properties("sink.properties.format=json\nsink.properties.columns=a,b\nsink.maxretries=3\n");
  auto m = p.with_prefix("sink.properties.");
  CHECK(m.size() == 2);
  CHECK(m["columns"] == "a,b");
}

#include <cstdio>
#include <fstream>

TEST_CASE("connector files: .properties, REST-shaped JSON and bare JSON maps") {
  auto write = [](const std::string& name, const std::string& text) {
    std::string path = "/tmp/starpipe-test-" + name;
    std::ofstream(path) << text;
    return path;
  };
  auto p1 = starpipe::conf::load_connector_file(write("a.properties", "name=a\ntopics=t\n"));
  CHECK(p1.get("topics") == "t");
  auto p2 = starpipe::conf::load_connector_file(
      write("b.properties", R"( {"name": "sr", "config": {"topics": "x", "tasks.max": "1"}} )"));
  CHECK(p2.get("name") == "sr");
  CHECK(p2.get("topics") == "x");
  auto p3 = starpipe::conf::load_connector_file(write("c.json", R"({"name": "m", "topics": "y"})"));
  CHECK(p3.get("name") == "m");
  CHECK_THROWS_WITH_AS(starpipe::conf::load_connector_file(write("d.json", R"({"config": {"tasks.max": 1}})")),
                       doctest::Contains("tasks.max must be a string value"), std::runtime_error);
  CHECK_THROWS_WITH_AS(starpipe::conf::load_connector_file(write("e.json", "{broken")),
                       doctest::Contains("not valid JSON"), std::runtime_error);
  for (auto n : {"a.properties", "b.properties", "c.json", "d.json", "e.json"})
    std::remove(("/tmp/starpipe-test-" + std::string(n)).c_str());
}

namespace {
std::string load_error(const std::string& path, bool connector) {
  try {
    connector ? starpipe::conf::load_connector_file(path) : starpipe::conf::load_properties_file(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
std::string temp_file(const std::string& name, const std::string& content) {
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/starpipe-props-" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}
} // namespace

TEST_CASE("properties files: wrong files are refused with the reason, not read as defaults") {
  for (bool connector : {false, true}) {
    CHECK(load_error("/", connector).find("is a directory") != std::string::npos);
    CHECK(load_error("/nonexistent/x.properties", connector).find("(ENOENT)") != std::string::npos);
    auto binary = temp_file("binary", std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10));
    CHECK_MESSAGE(load_error(binary, connector).find("is not a text file: byte 0x02 at offset 4 (line 1)") !=
                      std::string::npos,
                  load_error(binary, connector));
    // A UTF-8 byte order mark is dropped, so the first key is read as written.
    auto bom = temp_file("bom", "\xEF\xBB\xBF" "name=x\nother=1\n");
    if (!connector) CHECK(starpipe::conf::load_properties_file(bom).get("name") == "x");
  }
  auto broken = temp_file("broken.json", "{\"name\": \"c\",\n \"config\": {\"topics\": }}");
  std::string e = load_error(broken, true);
  CHECK_MESSAGE(e.find("line 2, column") != std::string::npos, e);
  auto deep = temp_file("deep.json", "{\"config\":" + std::string(1000, '[') + std::string(1000, ']') + "}");
  CHECK(load_error(deep, true).find("nested deeper than") != std::string::npos);
}
