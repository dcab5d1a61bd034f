#include "protocol/kafka/topic_pattern.h"

namespace starpipe::kafka {

namespace {

// Quotes every character of `text` for ECMAScript.
std::string quote(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string("\\^$.|?*+()[]{}/-").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Java constructs ECMAScript lacks or reads differently; the first found is named.
std::optional<std::string> unsupported(const std::string& re) {
  struct construct {
    const char* text;
    const char* name;
  };
  static const construct list[] = {
      {"(?<=", "lookbehind (?<=...)"},   {"(?<!", "negative lookbehind (?<!...)"},
      {"(?<", "named group (?<name>...)"}, {"(?>", "atomic group (?>...)"},
      {"\\p{", "Unicode class \\p{...}"}, {"\\P{", "Unicode class \\P{...}"},
      {"\\A", "anchor \\A"},              {"\\Z", "anchor \\Z"},
      {"\\z", "anchor \\z"},              {"\\G", "anchor \\G"},
      {"\\h", "class \\h"},               {"\\R", "linebreak \\R"},
      {"*+", "possessive quantifier *+"}, {"++", "possessive quantifier ++"},
      {"?+", "possessive quantifier ?+"}, {"}+", "possessive quantifier {n}+"},
      {"&&", "class intersection &&"},
  };
  for (size_t i = 0; i < re.size(); ++i) {
    if (re[i] == '\\' && i + 1 < re.size()) {
      // An escaped character is literal; only the escapes in the list are constructs.
      for (const auto& c : list)
        if (c.text[0] == '\\' && re.compare(i, std::char_traits<char>::length(c.text), c.text) == 0) return c.name;
      ++i;
      continue;
    }
    for (const auto& c : list)
      if (c.text[0] != '\\' && re.compare(i, std::char_traits<char>::length(c.text), c.text) == 0) return c.name;
    if (re.compare(i, 2, "(?") == 0 && i + 2 < re.size() && re[i + 2] != ':' && re[i + 2] != '=' && re[i + 2] != '!')
      return "inline flags (?...) other than a leading (?i)";
  }
  return std::nullopt;
}

} // namespace

std::optional<topic_pattern> topic_pattern::compile(const std::string& java_regex, std::string& error) {
  error.clear();
  std::string re = java_regex;
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  if (re.rfind("(?i)", 0) == 0) {
    flags |= std::regex::icase;
    re = re.substr(4);
  }
  // \Q...\E: everything between is literal (an unterminated \Q quotes to the end, as in Java).
  for (size_t q = re.find("\\Q"); q != std::string::npos; q = re.find("\\Q", q)) {
    if (q > 0 && re[q - 1] == '\\') {
      q += 2;
      continue;
    }
    size_t e = re.find("\\E", q + 2);
    std::string quoted = quote(re.substr(q + 2, e == std::string::npos ? std::string::npos : e - q - 2));
    re.replace(q, e == std::string::npos ? std::string::npos : e + 2 - q, quoted);
    q += quoted.size();
  }
  if (auto what = unsupported(re)) {
    error = "uses Java regex syntax starpipe does not support: " + *what;
    return std::nullopt;
  }
  topic_pattern p;
  p.source_ = java_regex;
  try {
    p.re_ = std::regex(re, flags);
  } catch (const std::regex_error& e) {
    error = std::string("not a valid regular expression: ") + e.what();
    return std::nullopt;
  }
  return p;
}

} // namespace starpipe::kafka
