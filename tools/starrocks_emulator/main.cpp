// starrocks-emulator: a StarRocks FE+BE for Stream Load on 127.0.0.1, faithful to
// docs/reference/starrocks-protocol.md, for tests, the quickstart and the benchmark.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/starrocks_emulator/server.h"
#include "tools/starrocks_emulator/sql_parser.h"

namespace {
const char* usage =
    "usage: starrocks-emulator --fe-port P --be-port Q [--user U] [--password W] [--sql FILE] [--no-store]\n"
    "                         [--no-transaction-api]\n"
    "  FE (Stream Load entry, 307 to the BE, get_load_state) on 127.0.0.1:P, BE on 127.0.0.1:Q.\n"
    "  --sql FILE   CREATE DATABASE / CREATE TABLE statements run at start (repeatable)\n"
    "  --no-store   count rows but keep none (benchmarks)\n"
    "  --no-transaction-api   answer 404 on /api/transaction/*, as StarRocks before 2.4\n"
    "  Default user root with an empty password.\n"
    "Test endpoints on the FE port:\n"
    "  GET  /_emulator/tables/DB/TABLE[?format=text]   the table's rows\n"
    "  POST /_emulator/sql                              run DDL\n"
    "  POST /_emulator/faults  {\"kind\":K,\"count\":N,...} K: http_500, drop_before_body, drop_after_commit,\n"
    "                          slow (\"ms\"), fail (\"message\")\n"
    "  GET  /_emulator/stats\n"
    "  GET  /_emulator/labels/DB                         every label of DB with its state\n";
}

int main(int argc, char** argv) {
  emulator::server_options opt;
  emulator::catalog cat;
  std::vector<std::string> sql_files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "starrocks-emulator: " << a << " needs a value\n" << usage;
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    } else if (a == "--fe-port") {
      opt.fe_port = static_cast<unsigned short>(std::stoi(value()));
    } else if (a == "--be-port") {
      opt.be_port = static_cast<unsigned short>(std::stoi(value()));
    } else if (a == "--user") {
      opt.user = value();
    } else if (a == "--password") {
      opt.password = value();
    } else if (a == "--sql") {
      sql_files.push_back(value());
    } else if (a == "--no-store") {
      opt.no_store = true;
    } else if (a == "--no-transaction-api") {
      opt.transaction_api = false;
    } else {
      std::cerr << "starrocks-emulator: unknown argument '" << a << "'\n" << usage;
      return 1;
    }
  }
  std::string db;
  for (const auto& f : sql_files) {
    std::ifstream in(f);
    if (!in) {
      std::cerr << "starrocks-emulator: cannot read " << f << "\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto err = emulator::execute_sql(cat, ss.str(), db); !err.empty()) {
      std::cerr << "starrocks-emulator: " << f << ": " << err << "\n";
      return 1;
    }
  }
  return emulator::run_server(opt, cat);
}
