#include "protocol/stream_load/stream_load_client.h"

namespace starpipe::stream_load {

client_settings client_settings_for(const conf::connector_config& c) {
  client_settings cs;
  cs.fe_urls = c.fe_urls;
  cs.username = c.username;
  cs.password = c.password;
  cs.timeouts.connect = std::chrono::milliseconds(c.connect_timeout_ms);
  cs.timeouts.wait_for_continue = std::chrono::milliseconds(c.wait_for_continue_ms);
  int64_t timeout_s = 600;
  if (auto t = c.load_properties.find("timeout"); t != c.load_properties.end()) {
    try {
      timeout_s = std::stoll(t->second);
    } catch (...) {
    }
  }
  cs.timeouts.response = std::chrono::seconds(timeout_s + 60);
  if (c.socket_timeout_ms > 0) {
    cs.timeouts.response = std::chrono::milliseconds(c.socket_timeout_ms);
    cs.timeouts.control = std::min(cs.timeouts.control, cs.timeouts.response);
  }
  return cs;
}

stream_load_client::stream_load_client(client_settings s)
    : settings_(std::move(s)), auth_(basic_auth(settings_.username, settings_.password)), http_(settings_.timeouts) {}

stream_load_client::fe_answer stream_load_client::send_via_fe(const std::string& path, http_request& hr) {
  fe_answer out;
  const size_t n = settings_.fe_urls.size();
  for (size_t tried = 0; tried < n; ++tried) {
    size_t idx = (fe_index_ + tried) % n;
    auto parsed = parse_http_url(settings_.fe_urls[idx] + path);
    if (!parsed) continue;
    hr.target = parsed->second;
    auto r = http_.send(parsed->first, hr);
    if (r.error && r.error->connect_failed) {
      out.connect_errors += (out.connect_errors.empty() ? "" : "; ") + settings_.fe_urls[idx] + ": " + r.error->what;
      continue;
    }
    if (r.error && r.error->no_answer) {
      // A FE that took the connection and said nothing is skipped. Where the request could
      // not have done anything yet (no body sent behind a 100-continue, a GET, a probe) the
      // next FE gets it now; otherwise the caller's retry goes to the next FE.
      const bool nothing_done = hr.idempotent || hr.method == "GET" || (hr.expect_continue && !r.error->body_sent);
      out.connect_errors += (out.connect_errors.empty() ? "" : "; ") + settings_.fe_urls[idx] + ": " + r.error->what;
      if (nothing_done && tried + 1 < n) continue;
      fe_index_ = (idx + 1) % n;
      out.result = std::move(r);
      out.result.error->what = "FE " + settings_.fe_urls[idx] + ": " + out.result.error->what;
      out.reached = true;
      return out;
    }
    fe_index_ = idx;
    // Follow redirects (FE -> BE; a follower FE may first send us to the leader).
    for (int hops = 0; hops < 3 && r.response && r.response->status == 307; ++hops) {
      auto location = r.response->header("location");
      auto target = parse_http_url(location);
      if (!target) {
        out.bad_location = location;
        break;
      }
      hr.target = target->second;
      r = http_.send(target->first, hr);
      if (r.error) r.error->what = "BE " + target->first.key() + " (the FE's redirect): " + r.error->what;
    }
    out.result = std::move(r);
    out.reached = true;
    return out;
  }
  return out;
}

attempt_outcome stream_load_client::attempt(const load_request& req) {
  http_request hr;
  hr.method = "PUT";
  hr.expect_continue = true;
  hr.body = req.body;
  hr.headers = req.headers;
  return send_load(req.path(), hr);
}

attempt_outcome stream_load_client::call(txn_op op, const load_request& req) {
  http_request hr;
  hr.method = op == txn_op::load ? "PUT" : "POST";
  hr.headers = {{"label", req.label}, {"db", req.database}, {"table", req.table}};
  // Begin and rollback are FE bookkeeping; load, prepare and commit do work bounded by the
  // transaction's timeout, so they keep the load's deadline.
  if (op == txn_op::begin || op == txn_op::rollback) hr.response_deadline = settings_.timeouts.control;
  if (op == txn_op::load) {
    hr.expect_continue = true;
    hr.body = req.body;
    for (const auto& [k, v] : req.headers)
      if (k != "label") hr.headers.emplace_back(k, v);
  } else if (op == txn_op::begin) {
    for (const auto& [k, v] : req.headers)
      if (k == "timeout") hr.headers.emplace_back(k, v); // the transaction's timeout
  }
  return send_load(std::string("/api/transaction/") + to_string(op), hr);
}

interface_probe stream_load_client::probe_transaction_interface(const std::string& database) {
  http_request hr;
  hr.method = "POST";
  hr.headers = {{"db", database}};
  hr.response_deadline = settings_.timeouts.control;
  hr.idempotent = true; // a begin without a label begins nothing
  return judge_interface_probe(send_load("/api/transaction/begin", hr));
}

std::string stream_load_client::state_of_label(const std::string& database, const std::string& label) {
  std::string error;
  return load_state(database, label, error).state;
}

attempt_outcome stream_load_client::send_load(const std::string& path, http_request& hr) {
  attempt_outcome out;
  hr.headers.emplace_back("Authorization", auth_);
  auto a = send_via_fe(path, hr);
  out.cancelled = http_.cancelled();
  if (!a.reached) {
    out.transport_error = "None of the hosts in starrocks.http.url could be connected: " + a.connect_errors;
    out.unreachable = !out.cancelled;
    return out;
  }
  if (a.bad_location) {
    out.http_status = 307;
    out.raw_body = "redirect to unusable Location '" + *a.bad_location + "'";
    return out;
  }
  if (a.result.error) {
    out.transport_error = a.result.error->what;
    out.body_may_have_landed = a.result.error->body_sent;
    return out;
  }
  out.http_status = a.result.response->status;
  out.raw_body = a.result.response->body;
  if (out.http_status == 200) out.response = parse_load_response(out.raw_body);
  return out;
}

label_state stream_load_client::load_state(const std::string& database, const std::string& label, std::string& error) {
  http_request hr;
  hr.method = "GET";
  hr.response_deadline = settings_.timeouts.control;
  hr.headers.emplace_back("Authorization", auth_);
  auto a = send_via_fe("/api/" + database + "/get_load_state?label=" + label, hr);
  if (!a.reached) {
    error = a.connect_errors.empty() ? "no FE reachable for get_load_state" : a.connect_errors;
    return {};
  }
  if (a.result.error) {
    error = a.result.error->what;
    return {};
  }
  if (a.result.response->status != 200) {
    error = "get_load_state answered HTTP " + std::to_string(a.result.response->status);
    return {};
  }
  auto st = parse_label_state(a.result.response->body);
  if (!st || st->state.empty()) {
    error = "get_load_state answer unreadable: " + a.result.response->body.substr(0, 200);
    return {};
  }
  return *st;
}

std::string stream_load_client::fetch_error_log(const std::string& url, size_t limit) {
  auto parsed = parse_http_url(url);
  if (!parsed) return {};
  http_request hr;
  hr.method = "GET";
  hr.response_deadline = settings_.timeouts.control;
  hr.target = parsed->second;
  hr.headers.emplace_back("Authorization", auth_);
  auto r = http_.send(parsed->first, hr);
  if (!r.response || r.response->status != 200) return {};
  return r.response->body.substr(0, limit);
}

} // namespace starpipe::stream_load
