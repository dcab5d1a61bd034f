#pragma once
// `starpipe distributed WORKER.properties`, as connect-distributed.sh: a long-running worker
// configured over the REST API, sharing the work with every worker of the same group.id.
#include <string>

namespace starpipe::pipelines {

// Returns the process exit code: 0 after a clean SIGTERM/SIGINT shutdown, 1 when the worker
// configuration is invalid or Kafka cannot be used, 2 when shutdown could not finish in time.
int run_distributed(const std::string& worker_file);

} // namespace starpipe::pipelines
