#include "tools/starrocks_emulator/transactions.h"

#include <regex>
#include <set>

namespace emulator::txn {

using clock = std::chrono::steady_clock;

namespace {

std::string get(const header_map& h, const std::string& k) {
  auto it = h.find(k);
  return it == h.end() ? std::string() : it->second;
}

// FE map form (TransactionResult).
ordered_json fe_result(const std::string& status, const std::string& message, int64_t txn = -1,
                       const std::string& label = "") {
  ordered_json j;
  j["Status"] = status;
  j["Message"] = message;
  if (txn >= 0) {
    j["TxnId"] = txn;
    j["Label"] = label;
  }
  return j;
}

ordered_json fe_failed(const std::string& message) {
  return fe_result("FAILED", "class com.starrocks.common.StarRocksException: " + message);
}

ordered_json in_processing(const std::string& label) {
  ordered_json j;
  j["Status"] = "TXN_IN_PROCESSING";
  j["Label"] = label;
  j["Message"] = "Transaction with label " + label + " is in processing";
  return j;
}

// Headers that describe the data: every load of a transaction must repeat them unchanged.
header_map load_headers(const header_map& h) {
  static const std::set<std::string> identity = {"authorization", "host", "content-length", "expect",
                                                 "transfer-encoding", "connection", "user-agent", "accept",
                                                 "label", "db", "table", "content-type"};
  header_map out;
  for (const auto& [k, v] : h)
    if (!identity.count(k)) out[k] = v;
  return out;
}

void abort_txn(database& d, const std::string& label, const std::string& reason) {
  auto it = d.transactions.find(label);
  if (it == d.transactions.end()) return;
  d.labels[label] = label_info{it->second.txn_id, "ABORTED", it->second.table, reason};
  d.transactions.erase(it);
}

// Counts every body's rows and applies the filter ratio, as the BE's prepare does.
std::string evaluate(catalog& cat, database& d, open_transaction& tx, bool no_store, const error_log_store& store,
                     const std::string& label) {
  auto* t = cat.find_table(d.name, tx.table);
  if (!t) return "unknown table, table=" + tx.table;
  load_options o;
  if (auto err = parse_load_options(tx.load_headers, *t, o); !err.empty()) return err;
  double ratio = o.max_filter_ratio;
  o.max_filter_ratio = 1;
  tx.total = tx.filtered = tx.unselected = 0;
  std::string errors;
  for (const auto& b : tx.bodies) {
    if (no_store) {
      tx.total += count_rows(o, b);
      continue;
    }
    auto r = load_rows(*t, o, b, false);
    if (!r.fatal.empty()) return r.fatal;
    tx.total += r.total;
    tx.filtered += r.filtered;
    tx.unselected += r.unselected;
    for (const auto& l : r.error_lines) errors += l + "\n";
  }
  if (!errors.empty()) tx.error_url = store(label, errors);
  int64_t considered = tx.total - tx.unselected;
  if (considered > 0 && static_cast<double>(tx.filtered) / static_cast<double>(considered) > ratio)
    return "too many filtered rows";
  return {};
}

ordered_json counters(const std::string& label, const open_transaction& tx) {
  ordered_json j = be_status("OK", "");
  j["Label"] = label;
  j["TxnId"] = tx.txn_id;
  j["NumberTotalRows"] = tx.total;
  j["NumberLoadedRows"] = tx.total - tx.filtered - tx.unselected;
  j["NumberFilteredRows"] = tx.filtered;
  j["NumberUnselectedRows"] = tx.unselected;
  j["LoadBytes"] = tx.bytes;
  j["LoadTimeMs"] = 0;
  j["StreamLoadPlanTimeMs"] = 0;
  j["ReceivedDataTimeMs"] = 0;
  j["WriteDataTimeMs"] = 0;
  j["CommitAndPublishTimeMs"] = 0;
  if (!tx.error_url.empty()) j["ErrorURL"] = tx.error_url;
  return j;
}

void commit_prepared(catalog& cat, database& d, const std::string& label, bool no_store) {
  auto it = d.transactions.find(label);
  auto* t = cat.find_table(d.name, it->second.table);
  if (t) apply(*t, it->second, no_store);
  cat.committed_transaction_rows += it->second.total - it->second.filtered - it->second.unselected;
  d.labels[label] = label_info{it->second.txn_id, "VISIBLE", it->second.table, ""};
  d.transactions.erase(it);
}

} // namespace

ordered_json be_status(const std::string& status, const std::string& message) {
  ordered_json j;
  j["Status"] = status;
  j["Message"] = message;
  return j;
}

void abort(catalog& cat, const header_map& h, const std::string& reason) {
  if (auto* d = cat.find_db(get(h, "db"))) abort_txn(*d, get(h, "label"), reason);
}

void apply(table& t, const open_transaction& tx, bool no_store) {
  if (no_store) return;
  load_options o;
  if (!parse_load_options(tx.load_headers, t, o).empty()) return;
  o.max_filter_ratio = 1; // checked at prepare over all bodies
  for (const auto& b : tx.bodies) load_rows(t, o, b, true);
}

void sweep(catalog& cat) {
  auto now = clock::now();
  for (auto& [name, d] : cat.databases) {
    for (auto it = d.transactions.begin(); it != d.transactions.end();) {
      auto& tx = it->second;
      bool idle = tx.idle_timeout_s > 0 && !tx.in_flight &&
                  now - tx.last_data > std::chrono::seconds(tx.idle_timeout_s);
      if ((now > tx.deadline && !tx.in_flight) || idle) {
        bool prepared = d.labels[it->first].state == "PREPARED";
        d.labels[it->first] = label_info{tx.txn_id, "ABORTED", tx.table,
                                         prepared ? "prepared transaction timed out"
                                                  : (idle ? "transaction idle timeout" : "transaction timeout")};
        it = d.transactions.erase(it);
      } else {
        ++it;
      }
    }
  }
}

fe_answer fe_route(catalog& cat, const std::string& op, const header_map& h, bool no_store) {
  std::string db = get(h, "db"), label = get(h, "label");
  if (db.find_first_not_of(" \t") == std::string::npos) return {false, fe_failed("No database selected.")};
  if (label.find_first_not_of(" \t") == std::string::npos) return {false, fe_failed("Empty label.")};
  if (op == "begin") return {true, {}};
  auto* d = cat.find_db(db);
  if (!d) return {false, fe_failed("Database[" + db + "] does not exist")};
  auto lit = d->labels.find(label);
  std::string state = lit == d->labels.end() ? "" : lit->second.state;
  bool has_context = d->transactions.count(label) > 0;
  if (op == "load" || op == "prepare") {
    if (state == "PREPARE" && has_context) return {true, {}};
    return {false, fe_failed("Can't find the transaction with db [" + db + "] and label[" + label +
                             "] to redirect, it may not be a transaction stream load or has already finished")};
  }
  if (state.empty()) return {false, fe_failed("No transaction found with label " + label + " in database " + db)};
  int64_t id = lit->second.txn_id;
  std::string ids = std::to_string(id);
  if (op == "commit") {
    if (state == "PREPARE") return {true, {}};
    if (state == "PREPARED") {
      commit_prepared(cat, *d, label, no_store);
      return {false, fe_result("OK", "", id, label)};
    }
    if (state == "COMMITTED" || state == "VISIBLE")
      return {false, fe_result("OK", "Transaction " + ids + " has already committed, label is " + label, id, label)};
    return {false, fe_failed("Can not commit " + state + " transaction " + ids + ", label is " + label)};
  }
  if (op == "rollback") {
    if (state == "PREPARE") return {true, {}};
    if (state == "PREPARED") {
      abort_txn(*d, label, "transaction is aborted by user.");
      return {false, fe_result("OK", "", id, label)};
    }
    if (state == "ABORTED")
      return {false, fe_result("OK", "Transaction " + ids + " has already aborted, label is " + label, id, label)};
    return {false, fe_failed("Can not abort " + state + " transaction " + ids + ", label is " + label)};
  }
  return {false, fe_failed("unknown transaction operation " + op)};
}

ordered_json be_op(catalog& cat, const std::string& op, const header_map& h, bool no_store,
                   const error_log_store& store) {
  std::string db = get(h, "db"), label = get(h, "label"), table_name = get(h, "table");
  auto* d = cat.find_db(db);
  if (!d) return be_status("INVALID_ARGUMENT", "unknown database, database=" + db);
  auto ctx = d->transactions.find(label);
  bool active = ctx != d->transactions.end() && d->labels[label].state == "PREPARE";
  if (op == "begin") {
    static const std::regex label_re(R"(^[-\w]{1,128}$)");
    if (!std::regex_match(label, label_re)) return be_status("INVALID_ARGUMENT", "Invalid label format: " + label);
    auto lit = d->labels.find(label);
    if (active || (lit != d->labels.end() && lit->second.state != "ABORTED")) {
      std::string s = lit->second.state;
      ordered_json j;
      j["Status"] = "LABEL_ALREADY_EXISTS";
      j["ExistingJobStatus"] = active ? "" : (s == "VISIBLE" || s == "COMMITTED" ? "FINISHED" : "RUNNING");
      j["Message"] = "Label [" + label + "] has already been used.";
      return j;
    }
    if (!cat.find_table(db, table_name)) return be_status("INVALID_ARGUMENT", "unknown table, table=" + table_name);
    open_transaction tx;
    tx.txn_id = cat.next_txn_id++;
    tx.table = table_name;
    int64_t timeout = 600;
    try {
      if (h.count("timeout")) timeout = std::stoll(get(h, "timeout"));
      if (h.count("idle_transaction_timeout")) tx.idle_timeout_s = std::stoll(get(h, "idle_transaction_timeout"));
    } catch (...) {
      return be_status("INVALID_ARGUMENT", "Invalid timeout format");
    }
    tx.deadline = clock::now() + std::chrono::seconds(timeout);
    tx.last_data = clock::now();
    d->labels[label] = label_info{tx.txn_id, "PREPARE", table_name, ""};
    int64_t id = tx.txn_id;
    d->transactions[label] = std::move(tx);
    ordered_json j = be_status("OK", "");
    j["Label"] = label;
    j["TxnId"] = id;
    j["BeginTxnTimeMs"] = 0;
    return j;
  }
  if (!active) return be_status("TXN_NOT_EXISTS", "Transaction with label " + label + " not exists");
  auto& tx = ctx->second;
  if (tx.in_flight) return in_processing(label);
  if (op == "rollback") {
    abort_txn(*d, label, "transaction is aborted by user.");
    ordered_json j = be_status("OK", "");
    j["Label"] = label;
    return j;
  }
  if (op == "prepare" || op == "commit") {
    if (tx.bodies.empty()) {
      std::string msg = "transaction " + std::to_string(tx.txn_id) + " hasn't send any data yet";
      abort_txn(*d, label, msg);
      return be_status("INTERNAL_ERROR", msg);
    }
    if (auto err = evaluate(cat, *d, tx, no_store, store, label); !err.empty()) {
      std::string url = tx.error_url;
      abort_txn(*d, label, err);
      ordered_json j = be_status("INTERNAL_ERROR", err);
      if (!url.empty()) j["ErrorURL"] = url;
      return j;
    }
    ordered_json j = counters(label, tx);
    if (op == "prepare") {
      int64_t prepared_timeout = 86400;
      try {
        if (h.count("prepared_timeout")) prepared_timeout = std::stoll(get(h, "prepared_timeout"));
      } catch (...) {
      }
      tx.deadline = clock::now() + std::chrono::seconds(prepared_timeout);
      d->labels[label].state = "PREPARED";
    } else {
      commit_prepared(cat, *d, label, no_store);
    }
    return j;
  }
  return be_status("INVALID_ARGUMENT", "unknown transaction operation " + op);
}

ordered_json be_load_start(catalog& cat, const header_map& h, bool& ok) {
  ok = false;
  std::string db = get(h, "db"), label = get(h, "label"), table_name = get(h, "table");
  auto* d = cat.find_db(db);
  if (!d) return be_status("INVALID_ARGUMENT", "unknown database, database=" + db);
  auto ctx = d->transactions.find(label);
  if (ctx == d->transactions.end() || d->labels[label].state != "PREPARE")
    return be_status("TXN_NOT_EXISTS", "Transaction with label " + label + " not exists");
  auto& tx = ctx->second;
  if (tx.in_flight) return in_processing(label);
  if (lower(table_name) != lower(tx.table)) {
    std::string msg = "Request table " + table_name + " not equal transaction table " + tx.table;
    abort_txn(*d, label, msg);
    return be_status("INVALID_ARGUMENT", msg);
  }
  auto lh = load_headers(h);
  if (tx.loaded && lh != tx.load_headers) {
    abort_txn(*d, label, "load request not equal last.");
    return be_status("INVALID_ARGUMENT", "load request not equal last.");
  }
  auto* t = cat.find_table(db, tx.table);
  load_options o;
  std::string err = t ? parse_load_options(lh, *t, o) : "unknown table, table=" + tx.table;
  if (!err.empty()) {
    abort_txn(*d, label, err);
    return be_status("INVALID_ARGUMENT", err);
  }
  tx.load_headers = lh;
  tx.loaded = true;
  tx.in_flight = true;
  ok = true;
  return {};
}

ordered_json be_load_finish(catalog& cat, const header_map& h, const std::string& body) {
  std::string db = get(h, "db"), label = get(h, "label");
  auto* d = cat.find_db(db);
  if (!d || !d->transactions.count(label))
    return be_status("TXN_NOT_EXISTS", "Transaction with label " + label + " not exists");
  auto& tx = d->transactions[label];
  tx.in_flight = false;
  tx.bodies.push_back(body);
  tx.bytes += static_cast<int64_t>(body.size());
  tx.last_data = clock::now();
  ordered_json j = be_status("OK", "");
  j["Label"] = label;
  j["TxnId"] = tx.txn_id;
  j["LoadBytes"] = static_cast<int64_t>(body.size());
  j["StreamLoadPlanTimeMs"] = 0;
  j["ReceivedDataTimeMs"] = 0;
  return j;
}

} // namespace emulator::txn
