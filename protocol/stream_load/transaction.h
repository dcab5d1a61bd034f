#pragma once
// Transaction Stream Load (docs/reference/starrocks-protocol.md 3): begin, load, prepare, commit,
// rollback. A pure decision per answer (decide_txn); the steps of a run are a machine
// (transaction_run.h), and run_transaction / finish_transaction carry its steps out blocking,
// over an abstract API, for callers on a thread of their own. Ambiguous answers (no
// response after the request went out, HTTP errors, FE FAILED) are settled through the
// label's state before anything is repeated; a transaction StarRocks lost (aborted, timed
// out) is begun again under the next label with the same rows.
#include <chrono>
#include <functional>
#include <string>

#include "protocol/stream_load/load_request.h"
#include "protocol/stream_load/retry_policy.h"

namespace starpipe::stream_load {

enum class txn_op { begin, load, prepare, commit, rollback };
const char* to_string(txn_op op);

// One attempt of one operation; implemented over HTTP by stream_load_client, faked in tests.
class transaction_api {
public:
  virtual ~transaction_api() = default;
  // req: database, table, label, data headers (used by load), body (load only).
  virtual attempt_outcome call(txn_op op, const load_request& req) = 0;
  // get_load_state; "" when it could not be read.
  virtual std::string state_of_label(const std::string& database, const std::string& label) = 0;
};

enum class txn_step {
  done,    // the operation took effect
  retry,   // repeat the same operation after `delay`
  settle,  // ask the label's state, then decide_txn_from_state
  restart, // the transaction is gone: begin again under the next label (rows kept)
  fail     // stop: `reason`
};
struct txn_decision {
  txn_step what = txn_step::fail;
  std::chrono::milliseconds delay{0};
  std::string reason;
};

txn_decision decide_txn(txn_op op, const attempt_outcome& o, int attempt, const retry_settings& s);
txn_decision decide_txn_from_state(txn_op op, const std::string& state, int attempt, const retry_settings& s);

struct txn_result {
  bool ok = false;
  std::string label;     // the label that reached the goal (or the last one tried)
  uint64_t sequence = 0; // its sequence number
  load_response counters; // prepare's (or commit's) row counters; on failure, the refusing answer
  std::string failure;
  int attempts = 0;
  int restarts = 0;
};

using sleeper = std::function<void(std::chrono::milliseconds)>;
using label_maker = std::function<std::string(uint64_t sequence)>;
// Told, in words, of every answer that was not plain progress (a retry, a settled ambiguous
// answer, a transaction begun again, a failure), so that the caller's log shows them.
using txn_observer = std::function<void(const std::string& what_happened)>;

// begin, load(body), then prepare (or commit when `commit_at_end`). Labels come from
// make_label(sequence), starting at `first_sequence`.
txn_result run_transaction(transaction_api& api, const load_request& batch, const label_maker& make_label,
                           uint64_t first_sequence, bool commit_at_end, const retry_settings& s,
                           const sleeper& sleep, const txn_observer& observe = {});

// sink.version=AUTO: does the FE have the transaction endpoints (StarRocks 2.4+)? The probe is
// a begin without a label: an FE with the API refuses it before beginning anything ("Empty
// label."), one without answers 404. Anything else decides nothing (probe again later).
enum class interface_support { transactions, stream_load_only, unknown };
struct interface_probe {
  interface_support support = interface_support::unknown;
  std::string evidence; // what the FE answered, for logs and errors
};
interface_probe judge_interface_probe(const attempt_outcome& o);

// Commits (commit = true) or rolls back a PREPARED transaction until StarRocks confirms.
txn_result finish_transaction(transaction_api& api, const std::string& database, const std::string& table,
                              const std::string& label, bool commit, const retry_settings& s, const sleeper& sleep,
                              const txn_observer& observe = {});

} // namespace starpipe::stream_load
