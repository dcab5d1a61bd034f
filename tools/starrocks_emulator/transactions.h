#pragma once
// Transaction Stream Load (docs/reference/starrocks-protocol.md 3, 4): the FE's routing (307 to the BE,
// or commit/rollback of a PREPARED transaction by the FE itself, idempotently) and the BE's
// per-label contexts with their states PREPARE -> PREPARED -> VISIBLE, or ABORTED. Plain
// functions over the catalog; the caller holds catalog::mutex and does the HTTP.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>

#include "tools/starrocks_emulator/catalog.h"
#include "tools/starrocks_emulator/row_loader.h"

namespace emulator::txn {

using ordered_json = nlohmann::ordered_json;
using header_map = std::map<std::string, std::string>; // lower-case names

// The FE's answer: a redirect to the BE, or a final JSON body.
struct fe_answer {
  bool redirect = false;
  ordered_json body;
};

// op: begin, load, prepare, commit, rollback. Checks db/label, then routes.
fe_answer fe_route(catalog& cat, const std::string& op, const header_map& h, bool no_store);

// Keeps rejected rows' reasons and answers the ErrorURL that serves them.
using error_log_store = std::function<std::string(const std::string& label, const std::string& text)>;

// BE begin, prepare, commit, rollback (no body).
ordered_json be_op(catalog& cat, const std::string& op, const header_map& h, bool no_store,
                   const error_log_store& store);

// BE load, header phase: "" and the transaction marked in flight, or the failure JSON.
ordered_json be_load_start(catalog& cat, const header_map& h, bool& ok);
// BE load, once the body is read.
ordered_json be_load_finish(catalog& cat, const header_map& h, const std::string& body);

// Aborts the label's open transaction (an error in begin, load or prepare rolls it back).
void abort(catalog& cat, const header_map& h, const std::string& reason);

// The BE's answer form: Status is a status-code name; extra keys only on success.
ordered_json be_status(const std::string& status, const std::string& message);

// Aborts contexts past their timeout or idle timeout and prepared ones past prepared_timeout.
void sweep(catalog& cat);

// Runs an operation's data through the table when the transaction commits.
void apply(table& t, const open_transaction& tx, bool no_store);

} // namespace emulator::txn
