#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace starpipe::log {
namespace {
std::atomic<int> g_level{static_cast<int>(level::info)};
std::mutex g_mutex;
const char* name(level l) {
  switch (l) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warn: return "WARN";
    case level::error: return "ERROR";
  }
  return "?";
}
} // namespace

void set_level(level l) { g_level = static_cast<int>(l); }
level current_level() { return static_cast<level>(g_level.load()); }

void write(level l, const std::string& component, const std::string& text) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> guard(g_mutex);
  std::fprintf(stderr, "%s.%03dZ %-5s [%s] %s\n", ts, static_cast<int>(ms), name(l),
               component.c_str(), text.c_str());
  std::fflush(stderr);
}

} // namespace starpipe::log
