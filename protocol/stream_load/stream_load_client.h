#pragma once
// One Stream Load attempt as docs/reference/starrocks-protocol.md describes it: PUT to an FE with
// Expect: 100-continue, follow the 307 to the BE re-sending headers and Basic auth, accept
// a final answer in place of 100, fail over across FEs. Retrying is the caller's decision
// (retry_policy), so each call here is exactly one attempt.
#include <chrono>
#include <string>
#include <vector>

#include "protocol/stream_load/http_client.h"
#include "protocol/stream_load/load_request.h"
#include "protocol/stream_load/retry_policy.h"
#include "protocol/stream_load/transaction.h"

namespace starpipe::stream_load {

struct client_settings {
  std::vector<std::string> fe_urls; // http://host:port
  std::string username;
  std::string password;
  http_timeouts timeouts;
};

// The connector's FEs, credentials and timeouts (the response wait covers the load's timeout).
client_settings client_settings_for(const conf::connector_config& c);

class stream_load_client : public transaction_api {
public:
  explicit stream_load_client(client_settings s);

  attempt_outcome attempt(const load_request& req);
  // One attempt of a transaction Stream Load operation (POST, or PUT with the body for load).
  attempt_outcome call(txn_op op, const load_request& req) override;
  std::string state_of_label(const std::string& database, const std::string& label) override;
  // sink.version=AUTO: begin without a label (judge_interface_probe reads the answer).
  interface_probe probe_transaction_interface(const std::string& database);
  // GET /api/{db}/get_load_state?label=..; state "" and `error` set when unreadable.
  label_state load_state(const std::string& database, const std::string& label, std::string& error);
  // The rejected rows StarRocks explains at ErrorURL, first `limit` bytes.
  std::string fetch_error_log(const std::string& url, size_t limit = 3000);
  // From any thread: abandons the request under way and every later one (see http_client).
  void cancel() { http_.cancel(); }
  // The FE that answered last (for logs).
  const std::string& current_fe() const { return settings_.fe_urls[fe_index_]; }

private:
  // One request through the FEs, starting with the last one that answered, following 307s.
  struct fe_answer {
    bool reached = false; // some FE took the connection
    std::string connect_errors;
    std::optional<std::string> bad_location; // a redirect to somewhere unusable
    http_client::result result;
  };
  fe_answer send_via_fe(const std::string& path, http_request& hr);
  attempt_outcome send_load(const std::string& path, http_request& hr);

  client_settings settings_;
  std::string auth_;
  size_t fe_index_ = 0;
  http_client http_;
};

} // namespace starpipe::stream_load
