#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#include "common/log.h"

// The components log what they do; in unit tests only errors are worth reading, unless
// STARPIPE_LOG_LEVEL=debug asks for everything.
int main(int argc, char** argv) {
  const char* level = std::getenv("STARPIPE_LOG_LEVEL");
  starpipe::log::set_level(level && std::string(level) == "debug" ? starpipe::log::level::debug
                                                                   : starpipe::log::level::error);
  doctest::Context context(argc, argv);
  return context.run();
}
