#include "tools/starrocks_emulator/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <regex>
#include <set>

#include "protocol/connect/json_converter.h"
#include "tools/starrocks_emulator/row_loader.h"
#include "tools/starrocks_emulator/sql_parser.h"
#include "tools/starrocks_emulator/transactions.h"

namespace emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ordered_json = nlohmann::ordered_json;

namespace {

std::string url_param(const std::string& target, const std::string& name) {
  auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string query = target.substr(q + 1);
  std::regex re("(^|&)" + name + "=([^&]*)");
  std::smatch m;
  return std::regex_search(query, m, re) ? std::string(m[2]) : std::string();
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

struct state {
  server_options opt;
  catalog& cat;
  std::deque<fault> faults;
  std::map<std::string, std::string> error_logs;
  server_stats stats;
  int64_t error_seq = 0;
  std::string sql_db;
};

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket s, state& st, bool is_be) : stream_(std::move(s)), st_(st), is_be_(is_be) {}
  void start() { read_header(); }

private:
  using request_t = http::request<http::string_body>;

  void read_header() {
    parser_.emplace();
    parser_->body_limit(std::uint64_t{64} << 30); // boost::none is mishandled by Beast 1.74
    parser_->header_limit(64 * 1024);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->on_header();
                            });
  }

  void read_body(std::function<void()> then) {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this(), then](beast::error_code ec, size_t) {
      if (ec) return self->close();
      then();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  const request_t& req() { return parser_->get(); }

  // The next fault queued for `op` (kind "" if none). drop_before_body faults are taken only
  // when asked for (before the body), the others only after it.
  fault take_fault(const std::string& op, bool before_body) {
    for (auto it = st_.faults.begin(); it != st_.faults.end(); ++it) {
      if (it->op != op) continue;
      if ((it->kind == "drop_before_body") != before_body) return {};
      fault f = *it;
      if (--it->count <= 0) st_.faults.erase(it);
      return f;
    }
    return {};
  }

  std::map<std::string, std::string> headers() {
    std::map<std::string, std::string> out;
    for (const auto& f : req()) out[lower(std::string(f.name_string()))] = std::string(f.value());
    return out;
  }

  bool authorized() {
    auto it = req().find(http::field::authorization);
    if (it == req().end()) return false;
    std::string v(it->value());
    if (v.rfind("Basic ", 0) != 0) return false;
    bool ok = false;
    return starpipe::connect::base64_decode(v.substr(6), ok) == st_.opt.user + ":" + st_.opt.password && ok;
  }

  // keep: whether to go on reading requests on this connection afterwards.
  void respond(unsigned status, const std::string& body, const std::string& content_type, bool keep,
               std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(status);
    res->version(11);
    res->set(http::field::server, "starrocks-emulator");
    if (!content_type.empty()) res->set(http::field::content_type, content_type);
    for (const auto& [k, v] : extra) res->set(k, v);
    res->body() = body;
    res->keep_alive(keep);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
      if (ec || !keep) return self->close();
      self->read_header();
    });
  }
  void respond_json(const ordered_json& j, bool keep, unsigned status = 200) {
    respond(status, j.dump(4), "application/json", keep);
  }
  ordered_json rest_base(bool ok, const std::string& msg) {
    ordered_json j;
    j["status"] = ok ? "OK" : "FAILED";
    j["code"] = ok ? "0" : "1";
    j["msg"] = ok ? "Success" : msg;
    j["message"] = ok ? "OK" : msg;
    return j;
  }

  void on_header() {
    std::string target(req().target());
    std::string path = path_of(target);
    static const std::regex stream_load(R"(^/api/([^/]*)/([^/]*)/_stream_load$)");
    static const std::regex load_state(R"(^/api/([^/]+)/get_load_state$)");
    std::smatch m;
    if (std::regex_match(path, m, stream_load)) {
      if (is_be_) return be_stream_load(m[1], m[2]);
      return fe_stream_load(m[1], m[2]);
    }
    if (!is_be_ && std::regex_match(path, m, load_state)) {
      std::string db = m[1];
      return read_body([self = shared_from_this(), db, target] { self->fe_load_state(db, url_param(target, "label")); });
    }
    if (is_be_ && path == "/api/_load_error_log") {
      return read_body([self = shared_from_this(), target] {
        auto it = self->st_.error_logs.find(url_param(target, "file"));
        if (it == self->st_.error_logs.end()) return self->respond(404, "no such error log", "text/plain", true);
        self->respond(200, it->second, "text/plain", true);
      });
    }
    if (!is_be_ && path.rfind("/_emulator/", 0) == 0)
      return read_body([self = shared_from_this(), path, target] { self->admin(path, target); });
    if (path.rfind("/api/transaction/", 0) == 0 && st_.opt.transaction_api) {
      std::string op = path.substr(std::string("/api/transaction/").size());
      if (is_be_) return be_transaction(op);
      return fe_transaction(op);
    }
    read_body([self = shared_from_this()] { self->respond(404, "Not Found", "text/plain", true); });
  }

  // FE: checks, then 307 to the BE without reading the body; closes after.
  void fe_stream_load(const std::string& db, const std::string& table) {
    auto fe_error = [this](const std::string& msg) {
      ordered_json j;
      j["Status"] = "FAILED";
      j["Message"] = "class com.starrocks.common.DdlException: " + msg;
      respond_json(j, false);
    };
    if (req().version() >= 11 && req()[http::field::expect] != "100-continue")
      return fe_error("There is no 100-continue header");
    if (db.empty()) return fe_error("No database selected.");
    if (table.empty()) return fe_error("No table selected.");
    if (!authorized()) {
      return respond(401, rest_base(false, "Access denied; you need (at least one of) the INSERT privilege(s) for "
                                           "this operation").dump(4),
                     "application/json", false, {{"WWW-Authenticate", "Basic realm=\"\""}});
    }
    std::string target(req().target());
    std::string location = "http://" + st_.opt.host + ":" + std::to_string(st_.opt.be_port) + target;
    respond(307, "", "", false, {{"Location", location}});
  }

  // FE transaction API: routing, or commit/rollback of a PREPARED transaction by itself.
  void fe_transaction(const std::string& op) {
    if (!authorized())
      return respond(401, rest_base(false, "Access denied; you need (at least one of) the INSERT privilege(s) for "
                                           "this operation").dump(4),
                     "application/json", false, {{"WWW-Authenticate", "Basic realm=\"\""}});
    std::unique_lock<std::mutex> g(st_.cat.mutex);
    txn::sweep(st_.cat);
    auto answer = txn::fe_route(st_.cat, op, headers(), st_.opt.no_store);
    if (op == "commit" && !answer.redirect && answer.body.value("Status", "") == "OK" &&
        answer.body.value("Message", "").empty())
      ++st_.stats.transaction_commits;
    g.unlock();
    if (answer.redirect) {
      std::string location = "http://" + st_.opt.host + ":" + std::to_string(st_.opt.be_port) + std::string(req().target());
      return respond(307, "", "", false, {{"Location", location}});
    }
    // The body (none expected) is not read: the connection closes after the answer.
    respond_json(answer.body, false);
  }

  void be_transaction(const std::string& op) {
    auto h = headers();
    fault f = take_fault(op, true);
    if (f.kind == "drop_before_body") return close();
    if (!authorized()) return respond_json(txn::be_status("INVALID_ARGUMENT", "no valid Basic authorization"), false);
    // An error in begin, load or prepare rolls the transaction back; commit and rollback keep it.
    auto abort = [self = shared_from_this(), h](const std::string& reason) {
      std::lock_guard<std::mutex> g(self->st_.cat.mutex);
      txn::abort(self->st_.cat, h, reason);
    };
    if (op == "load") {
      std::unique_lock<std::mutex> g(st_.cat.mutex);
      txn::sweep(st_.cat);
      bool ok = false;
      auto refused = txn::be_load_start(st_.cat, h, ok);
      g.unlock();
      if (!ok) return respond_json(refused, false);
      auto finish = [self = shared_from_this(), h, abort] {
        fault f = self->take_fault("load", false);
        if (self->injected_failure(f)) {
          abort(f.message);
          return self->respond_fault(f);
        }
        std::unique_lock<std::mutex> g(self->st_.cat.mutex);
        auto j = txn::be_load_finish(self->st_.cat, h, self->req().body());
        g.unlock();
        self->answer_after_fault(f, j);
      };
      auto on_body = [self = shared_from_this(), finish, abort] {
        self->read_body_or(finish, [abort] { abort("failed to read the load body"); });
      };
      if (req()[http::field::expect] != "100-continue") return on_body();
      auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      asio::async_write(stream_, asio::buffer(*cont), [self = shared_from_this(), cont, on_body, abort](beast::error_code ec, size_t) {
        if (!ec) return on_body();
        abort("failed to read the load body");
        self->close();
      });
      return;
    }
    read_body([self = shared_from_this(), op, h, abort] {
      auto& st = self->st_;
      fault f = self->take_fault(op, false);
      if (self->injected_failure(f)) {
        if (op == "prepare") abort(f.message);
        return self->respond_fault(f);
      }
      std::unique_lock<std::mutex> g(st.cat.mutex);
      txn::sweep(st.cat);
      auto j = txn::be_op(st.cat, op, h, st.opt.no_store, [self](const std::string& label, const std::string& text) {
        return self->store_error_log(label, text);
      });
      if (op == "commit" && j.value("Status", "") == "OK") {
        ++st.stats.loads;
        ++st.stats.transaction_commits;
      }
      g.unlock();
      self->answer_after_fault(f, j);
    });
  }

  static bool injected_failure(const fault& f) { return f.kind == "fail" || f.kind == "http_500"; }

  // A transaction operation's injected failure: HTTP 500 (closing), or the fault's status.
  void respond_fault(const fault& f) {
    if (f.kind == "http_500") return respond(500, "Internal Server Error (injected)", "text/plain", false);
    respond_json(txn::be_status(f.status, f.message), true);
  }

  void answer_after_fault(const fault& f, const ordered_json& j) {
    if (f.kind == "drop_after_commit") return close();
    if (f.kind == "slow") {
      auto timer = std::make_shared<asio::steady_timer>(stream_.get_executor(), std::chrono::milliseconds(f.ms));
      timer->async_wait([self = shared_from_this(), timer, j](beast::error_code) { self->respond_json(j, true); });
      return;
    }
    respond_json(j, true);
  }

  std::string store_error_log(const std::string& label, const std::string& text) {
    std::string file = "error_log_" + label + "_" + std::to_string(++st_.error_seq);
    st_.error_logs[file] = text;
    return "http://" + st_.opt.host + ":" + std::to_string(st_.opt.be_port) + "/api/_load_error_log?file=" + file;
  }

  void read_body_or(std::function<void()> then, std::function<void()> on_error) {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this(), then, on_error](beast::error_code ec, size_t) {
      if (ec) {
        on_error();
        return self->close();
      }
      then();
    });
  }

  void fe_load_state(const std::string& db, const std::string& label) {
    if (!authorized())
      return respond(401, rest_base(false, "Access denied").dump(4), "application/json", true,
                     {{"WWW-Authenticate", "Basic realm=\"\""}});
    std::lock_guard<std::mutex> g(st_.cat.mutex);
    txn::sweep(st_.cat);
    if (label.empty()) return respond_json(rest_base(false, "No label selected."), true);
    auto* d = st_.cat.find_db(db);
    if (!d) return respond_json(rest_base(false, "unknown database, database=" + db), true);
    auto it = d->labels.find(label);
    ordered_json j;
    j["state"] = it == d->labels.end() ? "UNKNOWN" : it->second.state;
    const ordered_json ok = rest_base(true, ""); // named: items() of a temporary would dangle
    for (auto& [k, v] : ok.items()) j[k] = v;
    if (it != d->labels.end() && !it->second.reason.empty()) j["reason"] = it->second.reason;
    respond_json(j, true);
  }

  ordered_json be_result(int64_t txn, const std::string& label, const std::string& status, const std::string& message,
                         const load_outcome* o, int64_t bytes, int64_t ms, const std::string& error_url,
                         const std::string& existing = "") {
    ordered_json j;
    j["TxnId"] = txn;
    j["Label"] = label;
    j["Status"] = status;
    if (status == "Label Already Exists") j["ExistingJobStatus"] = existing;
    j["Message"] = message;
    j["NumberTotalRows"] = o ? o->total : 0;
    j["NumberLoadedRows"] = o && status == "Success" ? o->loaded : 0;
    j["NumberFilteredRows"] = o ? o->filtered : 0;
    j["NumberUnselectedRows"] = o ? o->unselected : 0;
    j["LoadBytes"] = bytes;
    j["LoadTimeMs"] = ms;
    j["BeginTxnTimeMs"] = 0;
    j["StreamLoadPlanTimeMs"] = 0;
    j["ReadDataTimeMs"] = 0;
    j["WriteDataTimeMs"] = ms;
    j["CommitAndPublishTimeMs"] = 0;
    if (!error_url.empty()) j["ErrorURL"] = error_url;
    return j;
  }

  // BE: the header phase decides before any body byte is read; 100 Continue only on success.
  void be_stream_load(const std::string& db, const std::string& table) {
    auto h = headers();
    std::string label = h.count("label") ? h["label"] : "emulator-" + std::to_string(st_.cat.next_txn_id);
    auto early_fail = [&](const std::string& msg) {
      respond_json(be_result(-1, label, "Fail", msg, nullptr, 0, 0, ""), false);
    };
    if (take_fault("stream_load", true).kind == "drop_before_body") return close();
    if (!authorized()) return early_fail("no valid Basic authorization");
    static const std::regex label_re(R"(^[-\w]{1,128}$)");
    if (!std::regex_match(label, label_re)) return early_fail("Invalid label format: " + label);
    std::unique_lock<std::mutex> g(st_.cat.mutex);
    auto* d = st_.cat.find_db(db);
    if (!d) return early_fail("unknown database, database=" + db);
    auto* t = st_.cat.find_table(db, table);
    if (!t) return early_fail("unknown table, table=" + table);
    auto opts = std::make_shared<load_options>();
    if (auto err = parse_load_options(h, *t, *opts); !err.empty()) return early_fail(err);
    auto existing = d->labels.find(label);
    if (existing != d->labels.end() && existing->second.state != "ABORTED") {
      std::string job = existing->second.state == "VISIBLE" || existing->second.state == "COMMITTED" ? "FINISHED" : "RUNNING";
      return respond_json(be_result(-1, label, "Label Already Exists", "Label [" + label + "] has already been used.",
                                    nullptr, 0, 0, "", job),
                          false);
    }
    int64_t txn = st_.cat.next_txn_id++;
    d->labels[label] = label_info{txn, "PREPARE", table, ""};
    g.unlock();

    auto proceed = [self = shared_from_this(), db, table, label, txn, opts] {
      self->read_body([self, db, table, label, txn, opts] { self->be_execute(db, table, label, txn, *opts); });
    };
    if (req()[http::field::expect] == "100-continue") {
      auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      asio::async_write(stream_, asio::buffer(*cont), [self = shared_from_this(), cont, proceed](beast::error_code ec, size_t) {
        if (ec) return self->close();
        proceed();
      });
    } else {
      proceed();
    }
  }

  void be_execute(const std::string& db, const std::string& table, const std::string& label, int64_t txn,
                  const load_options& opts) {
    auto started = std::chrono::steady_clock::now();
    const std::string& body = req().body();
    fault f = take_fault("stream_load", false);
    std::unique_lock<std::mutex> g(st_.cat.mutex);
    auto* d = st_.cat.find_db(db);
    auto* t = st_.cat.find_table(db, table);
    auto abort_label = [&](const std::string& reason) {
      if (d) d->labels[label] = label_info{txn, "ABORTED", table, reason};
      ++st_.stats.failed;
    };
    if (!d || !t) {
      abort_label("table dropped");
      g.unlock();
      return respond_json(be_result(txn, label, "Fail", "unknown table, table=" + table, nullptr, 0, 0, ""), true);
    }
    if (f.kind == "http_500") {
      abort_label("injected 500");
      g.unlock();
      return respond(500, "Internal Server Error (injected)", "text/plain", false);
    }
    if (f.kind == "fail") {
      abort_label(f.message);
      g.unlock();
      return respond_json(be_result(txn, label, "Fail", f.message, nullptr, static_cast<int64_t>(body.size()), 0, ""), true);
    }
    load_outcome o;
    if (st_.opt.no_store) {
      o.total = o.loaded = count_rows(opts, body);
    } else {
      o = load_rows(*t, opts, body, true);
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    std::string error_url;
    if (!o.error_lines.empty()) {
      std::string text;
      for (const auto& l : o.error_lines) text += l + "\n";
      error_url = store_error_log(label, text);
    }
    ordered_json result;
    if (!o.fatal.empty()) {
      abort_label(o.fatal);
      result = be_result(txn, label, "Fail", o.fatal, &o, static_cast<int64_t>(body.size()), ms, error_url);
    } else {
      d->labels[label] = label_info{txn, "VISIBLE", table, ""};
      ++st_.stats.loads;
      ++st_.stats.stream_loads;
      st_.stats.rows += o.loaded;
      st_.stats.bytes += static_cast<int64_t>(body.size());
      result = be_result(txn, label, "Success", "OK", &o, static_cast<int64_t>(body.size()), ms, error_url);
    }
    g.unlock();
    answer_after_fault(f, result);
  }

  void admin(const std::string& path, const std::string& target) {
    static const std::regex table_re(R"(^/_emulator/tables/([^/]+)/([^/]+)$)");
    std::smatch m;
    std::lock_guard<std::mutex> g(st_.cat.mutex);
    if (path == "/_emulator/sql" && req().method() == http::verb::post) {
      std::string err = execute_sql(st_.cat, req().body(), st_.sql_db);
      if (!err.empty()) return respond_json(rest_base(false, err), true, 400);
      return respond_json(rest_base(true, ""), true);
    }
    if (path == "/_emulator/faults" && req().method() == http::verb::post) {
      auto j = nlohmann::json::parse(req().body(), nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("kind"))
        return respond_json(rest_base(false, "body must be {\"kind\":..., \"count\":N}"), true, 400);
      fault f{j.value("kind", ""), j.value("count", 1), j.value("message", ""), j.value("ms", 0),
              j.value("op", "stream_load"), j.value("status", "INTERNAL_ERROR")};
      static const std::set<std::string> kinds = {"http_500", "drop_before_body", "drop_after_commit", "slow", "fail"};
      static const std::set<std::string> ops = {"stream_load", "begin", "load", "prepare", "commit", "rollback"};
      if (!kinds.count(f.kind)) return respond_json(rest_base(false, "unknown fault kind " + f.kind), true, 400);
      if (!ops.count(f.op)) return respond_json(rest_base(false, "unknown fault op " + f.op), true, 400);
      st_.faults.push_back(f);
      return respond_json(rest_base(true, ""), true);
    }
    if (path == "/_emulator/stats") {
      ordered_json j;
      j["loads"] = st_.stats.loads;
      j["rows"] = st_.stats.rows + st_.cat.committed_transaction_rows;
      j["bytes"] = st_.stats.bytes;
      j["failed"] = st_.stats.failed;
      j["stream_loads"] = st_.stats.stream_loads;
      j["transaction_commits"] = st_.stats.transaction_commits;
      return respond_json(j, true);
    }
    static const std::regex labels_re(R"(^/_emulator/labels/([^/]+)$)");
    if (std::regex_match(path, m, labels_re)) { // every label of the database with its state
      auto* d = st_.cat.find_db(m[1]);
      if (!d) return respond_json(rest_base(false, "unknown database " + std::string(m[1])), true, 404);
      txn::sweep(st_.cat);
      ordered_json j = ordered_json::object();
      for (const auto& [label, info] : d->labels) j[label] = info.state;
      return respond_json(j, true);
    }
    if (std::regex_match(path, m, table_re)) {
      auto* t = st_.cat.find_table(m[1], m[2]);
      if (!t) return respond_json(rest_base(false, "unknown table " + std::string(m[1]) + "." + std::string(m[2])), true, 404);
      auto rows = t->snapshot();
      if (url_param(target, "format") == "text") return respond(200, render_text(*t, rows), "text/plain", true);
      ordered_json j;
      j["columns"] = ordered_json::array();
      for (const auto& c : t->columns) j["columns"].push_back(c.name);
      j["rows"] = ordered_json::array();
      for (const auto& r : rows) {
        ordered_json jr = ordered_json::array();
        for (const auto& v : r) jr.push_back(v ? ordered_json(*v) : ordered_json(nullptr));
        j["rows"].push_back(jr);
      }
      return respond(200, j.dump(), "application/json", true);
    }
    respond(404, "Not Found", "text/plain", true);
  }

  // As the MySQL client prints a result set.
  static std::string render_text(const table& t, const std::vector<row>& rows) {
    std::vector<size_t> w;
    for (const auto& c : t.columns) w.push_back(c.name.size());
    for (const auto& r : rows)
      for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i] ? r[i]->size() : 4);
    std::string sep = "+";
    for (auto x : w) sep += std::string(x + 2, '-') + "+";
    auto line = [&](const std::vector<std::string>& cells, const std::vector<bool>& right) {
      std::string s = "|";
      for (size_t i = 0; i < cells.size(); ++i) {
        std::string pad(w[i] - cells[i].size(), ' ');
        s += " " + (right[i] ? pad + cells[i] : cells[i] + pad) + " |";
      }
      return s + "\n";
    };
    std::vector<std::string> names;
    std::vector<bool> right;
    for (const auto& c : t.columns) {
      names.push_back(c.name);
      bool numeric = c.type.find("INT") != std::string::npos || c.type == "DECIMAL" || c.type == "FLOAT" ||
                     c.type == "DOUBLE";
      right.push_back(numeric);
    }
    std::string out = sep + "\n" + line(names, std::vector<bool>(names.size(), false)) + sep + "\n";
    for (const auto& r : rows) {
      std::vector<std::string> cells;
      for (const auto& v : r) cells.push_back(v ? *v : "NULL");
      out += line(cells, right);
    }
    out += sep + "\n" + std::to_string(rows.size()) + (rows.size() == 1 ? " row" : " rows") + " in set\n";
    return out;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  state& st_;
  bool is_be_;
};

void accept_loop(tcp::acceptor& acc, state& st, bool is_be) {
  acc.async_accept([&acc, &st, is_be](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<session>(std::move(s), st, is_be)->start();
    }
    if (acc.is_open()) accept_loop(acc, st, is_be);
  });
}

} // namespace

int run_server(const server_options& opt, catalog& cat) {
  asio::io_context ioc{1};
  state st{opt, cat, {}, {}, {}, 0, {}};
  auto addr = asio::ip::make_address(opt.host);
  tcp::acceptor fe(ioc), be(ioc);
  try {
    for (auto* acc : {&fe, &be}) {
      auto port = acc == &fe ? opt.fe_port : opt.be_port;
      tcp::endpoint ep{addr, port};
      acc->open(ep.protocol());
      acc->set_option(asio::socket_base::reuse_address(true));
      acc->bind(ep);
      acc->listen();
    }
  } catch (const std::exception& e) {
    std::cerr << "starrocks-emulator: cannot listen: " << e.what() << "\n";
    return 1;
  }
  accept_loop(fe, st, false);
  accept_loop(be, st, true);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  std::cout << "starrocks-emulator: FE http://" << opt.host << ":" << fe.local_endpoint().port() << " BE http://"
            << opt.host << ":" << be.local_endpoint().port() << (opt.no_store ? " (no-store)" : "") << std::endl;
  ioc.run();
  return 0;
}

} // namespace emulator
