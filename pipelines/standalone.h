#pragma once
// `starpipe standalone WORKER.properties CONNECTOR.properties...`, as connect-standalone.sh.
#include <string>
#include <vector>

namespace starpipe::pipelines {

// Returns the process exit code: 0 after a clean SIGTERM/SIGINT shutdown, 1 when the
// configuration is invalid, 2 when shutdown could not finish in time.
int run_standalone(const std::string& worker_file, const std::vector<std::string>& connector_files);

} // namespace starpipe::pipelines
