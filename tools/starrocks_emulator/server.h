#pragma once
// The emulator's FE and BE HTTP servers, one thread, Boost.Beast.
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "tools/starrocks_emulator/catalog.h"

namespace emulator {

// A fault applied to the next `count` BE requests of one operation: `op` is stream_load (V1)
// or a transaction operation (begin, load, prepare, commit, rollback).
struct fault {
  std::string kind;    // http_500 | drop_before_body | drop_after_commit | slow | fail
  int count = 1;
  std::string message; // for fail
  int ms = 0;          // for slow
  std::string op = "stream_load";
  std::string status = "INTERNAL_ERROR"; // for fail on a transaction operation
};

struct server_options {
  std::string host = "127.0.0.1";
  unsigned short fe_port = 8030;
  unsigned short be_port = 8040;
  std::string user = "root";
  std::string password;
  bool no_store = false;
  bool transaction_api = true; // false: /api/transaction/* answer 404, as before StarRocks 2.4
};

struct server_stats {
  int64_t loads = 0, rows = 0, bytes = 0, failed = 0;
  int64_t stream_loads = 0, transaction_commits = 0; // which interface the loads came through
};

// Runs until SIGTERM/SIGINT. Returns the exit code.
int run_server(const server_options& opt, catalog& cat);

} // namespace emulator
