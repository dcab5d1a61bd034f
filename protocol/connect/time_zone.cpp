#include "protocol/connect/time_zone.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>

namespace starpipe::connect {

namespace {

int64_t be(const unsigned char* p, int n) {
  int64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4 && (v & 0x80000000)) v -= (int64_t{1} << 32); // signed 32-bit
  return v;
}

} // namespace

std::shared_ptr<const time_zone> time_zone::utc() {
  static auto z = [] {
    auto t = std::make_shared<time_zone>();
    t->name_ = "UTC";
    return std::shared_ptr<const time_zone>(t);
  }();
  return z;
}

std::shared_ptr<const time_zone> time_zone::load(const std::string& name, std::string& error,
                                                 const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC" || name == "Z" || name == "GMT" || name == "Etc/UTC") return utc();
  static const std::regex offset_re(R"(^(?:UTC|GMT)?([+-])([0-9]{1,2}):?([0-9]{2})$)");
  std::smatch m;
  if (std::regex_match(name, m, offset_re)) {
    auto t = std::make_shared<time_zone>();
    t->name_ = name;
    int32_t secs = (std::stoi(m[2]) * 60 + std::stoi(m[3])) * 60;
    t->fixed_offset_ = t->initial_offset_ = m[1] == "-" ? -secs : secs;
    if (std::abs(t->fixed_offset_) > 18 * 3600) {
      error = "offset beyond +-18:00";
      return nullptr;
    }
    return t;
  }
  if (name.find("..") != std::string::npos || name.front() == '/') {
    error = "not a time zone name";
    return nullptr;
  }
  std::ifstream in(zoneinfo_dir + "/" + name, std::ios::binary);
  if (!in) {
    error = "unknown time zone (not UTC, an offset like +08:00, or a name in " + zoneinfo_dir + ")";
    return nullptr;
  }
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // TZif: a v1 block with 32-bit times, then (v2+) the same with 64-bit times, which we use.
  auto header = [&](size_t at, int64_t counts[6]) {
    if (data.size() < at + 44 || std::string(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at) + 4) != "TZif")
      return false;
    for (int i = 0; i < 6; ++i) counts[i] = be(&data[at + 20 + static_cast<size_t>(i) * 4], 4);
    return true;
  };
  int64_t c[6]; // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) {
    error = "not a TZif file";
    return nullptr;
  }
  size_t at = 44;
  int time_size = 4;
  if (data[4] >= '2') {
    size_t v1_len = static_cast<size_t>(c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    at = 44 + v1_len;
    if (!header(at, c)) {
      error = "damaged TZif file";
      return nullptr;
    }
    at += 44;
    time_size = 8;
  }
  size_t need = static_cast<size_t>(c[3] * time_size + c[3] + c[4] * 6);
  if (data.size() < at + need || c[4] <= 0) {
    error = "damaged TZif file";
    return nullptr;
  }
  auto t = std::make_shared<time_zone>();
  t->name_ = name;
  std::vector<int32_t> type_offsets;
  const size_t types_at = at + static_cast<size_t>(c[3] * time_size + c[3]);
  for (int64_t i = 0; i < c[4]; ++i) type_offsets.push_back(static_cast<int32_t>(be(&data[types_at + static_cast<size_t>(i) * 6], 4)));
  for (int64_t i = 0; i < c[3]; ++i) {
    t->transitions_.push_back(be(&data[at + static_cast<size_t>(i * time_size)], time_size));
    unsigned idx = data[at + static_cast<size_t>(c[3] * time_size + i)];
    t->offsets_.push_back(idx < type_offsets.size() ? type_offsets[idx] : 0);
  }
  t->initial_offset_ = type_offsets.front();
  return t;
}

int32_t time_zone::offset_at(int64_t utc_seconds) const {
  if (transitions_.empty()) return initial_offset_;
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(std::distance(transitions_.begin(), it) - 1)];
}

} // namespace starpipe::connect
