#pragma once
// A small blocking HTTP/1.1 client for Stream Load: Expect: 100-continue with a final answer
// accepted in place of 100, keep-alive per host, and a deadline on every step. It runs its
// own io_context on the calling thread, so callers are detached actors or plain threads.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace starpipe::stream_load {

struct http_endpoint {
  std::string host;
  std::string port;
  std::string key() const { return host + ":" + port; }
};

// "http://h:p/x?y" -> endpoint + target. nullopt if not an http URL.
std::optional<std::pair<http_endpoint, std::string>> parse_http_url(const std::string& url);

struct http_request {
  std::string method = "PUT";
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<const std::string> body; // may be null
  bool expect_continue = false;
  // How long the whole exchange may wait for the server; http_timeouts::response when unset.
  std::optional<std::chrono::milliseconds> response_deadline;
  // Sending it twice does no harm (a GET, a label-less probe): a server that never answered
  // may be skipped for the next one.
  bool idempotent = false;
};

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
  bool body_sent = false; // whether any body byte went out
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct http_error {
  std::string what;
  bool connect_failed = false; // nothing reached the server
  bool body_sent = false;
  bool no_answer = false; // not one byte of a response came back (a silent or dead server)
};

struct http_timeouts {
  std::chrono::milliseconds connect{1000};
  std::chrono::milliseconds wait_for_continue{30000};
  std::chrono::milliseconds response{660000}; // the load itself (timeout header 600 s + margin)
  // Requests the FE answers from its metadata (the interface probe, begin, rollback, label
  // states, error logs): a server silent this long is taken as dead.
  std::chrono::milliseconds control{10000};
};

class http_client {
public:
  explicit http_client(http_timeouts t);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Either a response or an error, never both.
  struct result {
    std::optional<http_response> response;
    std::optional<http_error> error;
  };
  result send(const http_endpoint& to, const http_request& req);
  void close_all();
  // From any thread: the request under way, and every later one, fails at once with
  // "cancelled". For a process that stops while a server holds a request.
  void cancel();
  bool cancelled() const;
  // cancel() on every client of the process.
  static void cancel_all();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace starpipe::stream_load
