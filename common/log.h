#pragma once
// One process-wide logger: a line per event, stderr, thread-safe.
// Secrets never reach it: callers log config through conf::redacted().
#include <sstream>
#include <string>

namespace starpipe::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(level l);
level current_level();
void write(level l, const std::string& component, const std::string& text);

} // namespace starpipe::log

#define SP_LOG(lvl, component, expr)                                          \
  do {                                                                       \
    if (static_cast<int>(lvl) >= static_cast<int>(::starpipe::log::current_level())) { \
      std::ostringstream sp_log_os_;                                         \
      sp_log_os_ << expr;                                                    \
      ::starpipe::log::write(lvl, component, sp_log_os_.str());              \
    }                                                                        \
  } while (false)
#define LOG_DEBUG(c, e) SP_LOG(::starpipe::log::level::debug, c, e)
#define LOG_INFO(c, e) SP_LOG(::starpipe::log::level::info, c, e)
#define LOG_WARN(c, e) SP_LOG(::starpipe::log::level::warn, c, e)
#define LOG_ERROR(c, e) SP_LOG(::starpipe::log::level::error, c, e)
