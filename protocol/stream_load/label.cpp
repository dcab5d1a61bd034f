#include "protocol/stream_load/label.h"

#include <random>

namespace starpipe::stream_load {

std::string sanitize_label_part(const std::string& s) {
  std::string out = s;
  for (auto& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

std::string make_label(const std::string& prefix, const std::string& table, const std::string& unique,
                       uint64_t sequence) {
  std::string tail = "-" + sanitize_label_part(unique) + "-" + std::to_string(sequence);
  std::string head = sanitize_label_part(prefix) + "-" + sanitize_label_part(table);
  if (head.size() + tail.size() > 128) head.resize(128 - tail.size());
  return head + tail;
}

bool is_valid_label(const std::string& label) {
  if (label.empty() || label.size() > 128) return false;
  return sanitize_label_part(label) == label;
}

std::string random_token(size_t hex_chars) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < hex_chars; ++i) out += hex[rng() % 16];
  return out;
}

} // namespace starpipe::stream_load
