#include "protocol/connect/json_scan.h"

namespace starpipe::connect {

namespace {

class scanner {
public:
  scanner(std::string_view t, size_t max_depth) : p_(t.data()), end_(t.data() + t.size()), max_depth_(max_depth) {}

  bool document() {
    skip_ws();
    if (!value(0)) return false;
    skip_ws();
    return p_ == end_;
  }

  // A document that is one object of exactly the members "schema" and "payload" (keys spelled
  // without escapes), in either order: the members' texts.
  bool envelope(std::string_view& schema, std::string_view& payload) {
    skip_ws();
    if (p_ >= end_ || *p_ != '{') return false;
    ++p_;
    bool have_schema = false, have_payload = false;
    for (int member = 0; member < 2; ++member) {
      skip_ws();
      const char* key = p_;
      if (p_ >= end_ || *p_ != '"' || !string()) return false;
      std::string_view name(key, static_cast<size_t>(p_ - key));
      std::string_view* target = nullptr;
      if (name == "\"schema\"" && !have_schema) target = &schema, have_schema = true;
      else if (name == "\"payload\"" && !have_payload) target = &payload, have_payload = true;
      else return false;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      const char* start = p_;
      if (!value(1)) return false;
      *target = std::string_view(start, static_cast<size_t>(p_ - start));
      if (after_member('}') != (member == 0 ? more : closed)) return false;
    }
    skip_ws();
    return p_ == end_;
  }

private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(size_t depth) {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string();
      case 't': return literal("true", 4);
      case 'f': return literal("false", 5);
      case 'n': return literal("null", 4);
      default: return number();
    }
  }

  bool literal(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    for (size_t i = 0; i < n; ++i)
      if (p_[i] != word[i]) return false;
    p_ += n;
    return true;
  }

  bool digits() {
    const char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start;
  }

  bool number() {
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      digits();
    } else {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }

  static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  static unsigned hex_value(char c) {
    return c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>((c | 0x20) - 'a' + 10);
  }

  // A multi-byte sequence (the caller saw a byte >= 0x80).
  bool utf8() {
    uint32_t cp;
    const size_t n = utf8_sequence(std::string_view(p_, static_cast<size_t>(end_ - p_)), 0, cp);
    if (n < 2) return false;
    p_ += n;
    return true;
  }

  bool string() {
    ++p_; // opening quote
    while (p_ < end_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p_ >= end_) return false;
        switch (*p_) {
          case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': ++p_; break;
          case 'u': {
            if (end_ - p_ < 5) return false;
            for (int i = 1; i <= 4; ++i)
              if (!is_hex(p_[i])) return false;
            unsigned cp = (hex_value(p_[1]) << 12) | (hex_value(p_[2]) << 8) | (hex_value(p_[3]) << 4) | hex_value(p_[4]);
            p_ += 5;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return false; // lone low surrogate
            if (cp >= 0xD800 && cp <= 0xDBFF) {             // must pair with a low surrogate
              if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
              for (int i = 2; i <= 5; ++i)
                if (!is_hex(p_[i])) return false;
              unsigned lo = (hex_value(p_[2]) << 12) | (hex_value(p_[3]) << 8) | (hex_value(p_[4]) << 4) | hex_value(p_[5]);
              if (lo < 0xDC00 || lo > 0xDFFF) return false;
              p_ += 6;
            }
            break;
          }
          default: return false;
        }
        continue;
      }
      if (c < 0x80) {
        ++p_;
        continue;
      }
      if (!utf8()) return false;
    }
    return false;
  }

  enum step { more, closed, bad };
  // After a member of an array or object: a comma (more follow) or the closing bracket.
  step after_member(char close) {
    skip_ws();
    if (p_ >= end_) return bad;
    if (*p_ == ',') {
      ++p_;
      return more;
    }
    if (*p_ == close) {
      ++p_;
      return closed;
    }
    return bad;
  }

  bool array(size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      skip_ws();
      if (!value(depth)) return false;
      if (auto r = after_member(']'); r != more) return r == closed;
    }
  }

  bool object(size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      skip_ws();
      if (p_ >= end_ || *p_ != '"' || !string()) return false;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      if (!value(depth)) return false;
      if (auto r = after_member('}'); r != more) return r == closed;
    }
  }

  const char* p_;
  const char* end_;
  size_t max_depth_;
};

} // namespace

bool is_valid_json(std::string_view text, size_t max_depth) { return scanner(text, max_depth).document(); }

bool split_envelope(std::string_view text, std::string_view& schema, std::string_view& payload) {
  return scanner(text, max_json_depth).envelope(schema, payload);
}

size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t extra;
  if (c < 0x80) return cp = c, 1;
  if (c >= 0xC2 && c <= 0xDF) extra = 1, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) extra = 2, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) extra = 3, cp = c & 0x07;
  else return 0;
  if (s.size() - i <= extra) return 0;
  for (size_t k = 1; k <= extra; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // overlong forms, surrogates, beyond U+10FFFF
  if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return extra + 1;
}

bool nested_deeper_than(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i; // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return false;
}

} // namespace starpipe::connect
