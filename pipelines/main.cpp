// starpipe: Kafka -> StarRocks Stream Load, a native drop-in for Kafka Connect with the
// StarRocks sink connector.
#include <malloc.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "common/log.h"
#include "conf/key_tables.h"
#include "pipelines/distributed.h"
#include "pipelines/standalone.h"

namespace {

const char* usage =
    "usage:\n"
    "  starpipe standalone WORKER.properties CONNECTOR.properties [MORE.properties ...]\n"
    "      Runs the connectors in one process, as connect-standalone.sh does with the same files.\n"
    "  starpipe distributed WORKER.properties\n"
    "      A long-running worker configured over the Kafka Connect REST API, as connect-distributed.sh;\n"
    "      workers with the same group.id share the connectors' partitions.\n"
    "  starpipe config-reference\n"
    "      Prints every configuration key (type, default, allowed values, meaning) as Markdown.\n"
    "  starpipe --help | --version\n"
    "\n"
    "options (before the mode):\n"
    "  --log-level debug|info|warn|error   default info (also STARPIPE_LOG_LEVEL)\n"
    "\n"
    "Configuration keys, defaults and ranges: see docs/configuration.md.\n";

bool set_level(const std::string& s) {
  using starpipe::log::level;
  if (s == "debug") starpipe::log::set_level(level::debug);
  else if (s == "info") starpipe::log::set_level(level::info);
  else if (s == "warn") starpipe::log::set_level(level::warn);
  else if (s == "error") starpipe::log::set_level(level::error);
  else return false;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  // Load bodies are tens of MB, allocated and freed all the time. glibc raises its mmap
  // threshold after each such free and then keeps them in the heap; a fixed threshold hands
  // them back to the system, so RSS follows bufferflush.maxbytes.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_ARENA_MAX, 4);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (const char* env = std::getenv("STARPIPE_LOG_LEVEL"); env && !set_level(env)) {
    std::cerr << "starpipe: STARPIPE_LOG_LEVEL='" << env << "' is not a log level (debug, info, warn, error)\n";
    return 1;
  }
  size_t i = 0;
  while (i < args.size() && args[i].rfind("--", 0) == 0) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << usage;
      return 0;
    }
    if (args[i] == "--version") {
      std::cout << "starpipe " << STARPIPE_VERSION << "\n";
      return 0;
    }
    if (args[i] == "--log-level" || args[i].rfind("--log-level=", 0) == 0) {
      const bool joined = args[i] != "--log-level";
      if (!joined && i + 1 >= args.size()) {
        std::cerr << "starpipe: --log-level needs a value (debug, info, warn, error)\n";
        return 1;
      }
      const std::string value = joined ? args[i].substr(12) : args[i + 1];
      if (!set_level(value)) {
        std::cerr << "starpipe: --log-level '" << value << "' is not a log level (debug, info, warn, error)\n";
        return 1;
      }
      i += joined ? 1 : 2;
      continue;
    }
    std::cerr << "starpipe: unknown or incomplete option '" << args[i] << "'\n" << usage;
    return 1;
  }
  if (i >= args.size()) {
    std::cerr << usage;
    return 1;
  }
  const std::string mode = args[i++];
  if (mode == "config-reference") {
    std::cout << starpipe::conf::configuration_reference();
    return 0;
  }
  if (mode == "standalone") {
    if (args.size() - i < 2) {
      std::cerr << "starpipe standalone: needs a worker file and at least one connector file\n" << usage;
      return 1;
    }
    std::vector<std::string> connectors(args.begin() + static_cast<long>(i) + 1, args.end());
    return starpipe::pipelines::run_standalone(args[i], connectors);
  }
  if (mode == "distributed") {
    if (args.size() - i != 1) {
      std::cerr << "starpipe distributed: needs exactly one worker file\n" << usage;
      return 1;
    }
    return starpipe::pipelines::run_distributed(args[i]);
  }
  std::cerr << "starpipe: unknown mode '" << mode << "'\n" << usage;
  return 1;
}
