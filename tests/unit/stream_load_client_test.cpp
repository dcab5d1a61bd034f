// The Stream Load client against a scripted HTTP server running in the test: each test
// says what the FE and BE answer and checks what the client sent.
#include <doctest/doctest.h>

#include <boost/asio.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "protocol/stream_load/stream_load_client.h"

using namespace starpipe::stream_load;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct seen_request {
  std::string method, target, body;
  std::map<std::string, std::string> headers; // lower-case names
};

struct reply {
  bool send_continue = true; // with Expect: answer 100 and read the body first
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool drop = false; // close without answering
  bool close = false;
};

class scripted_server {
public:
  explicit scripted_server(std::function<reply(const seen_request&)> handler)
      : handler_(std::move(handler)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~scripted_server() {
    stop_ = true;
    boost::system::error_code ec;
    // wake the blocking accept
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }
  std::vector<seen_request> requests() {
    std::lock_guard<std::mutex> g(mutex_);
    return requests_;
  }
  int connections() const { return connections_; }

private:
  void run() {
    while (!stop_) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      ++connections_;
      serve(sock); // one connection at a time is enough for a client that sends one request at a time
    }
  }

  void serve(tcp::socket& sock) {
    std::string buf;
    boost::system::error_code ec;
    while (true) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        char tmp[4096];
        size_t n = sock.read_some(asio::buffer(tmp), ec);
        if (ec) return;
        buf.append(tmp, n);
      }
      seen_request req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      req.method = first.substr(0, first.find(' '));
      req.target = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string line = head.substr(pos, e - pos);
        auto colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        req.headers[name] = value;
        pos = e + 2;
      }
      reply r = handler_(req);
      if (r.drop) return;
      size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      bool read_body = !req.headers.count("expect") || r.send_continue;
      if (req.headers.count("expect") && r.send_continue)
        asio::write(sock, asio::buffer(std::string("HTTP/1.1 100 Continue\r\n\r\n")), ec);
      if (read_body) {
        while (buf.size() < length) {
          char tmp[65536];
          size_t n = sock.read_some(asio::buffer(tmp), ec);
          if (ec) return;
          buf.append(tmp, n);
        }
        req.body = buf.substr(0, length);
        buf.erase(0, length);
      }
      {
        std::lock_guard<std::mutex> g(mutex_);
        requests_.push_back(req);
      }
      bool close = r.close || !read_body;
      std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Length: " + std::to_string(r.body.size()) +
                        "\r\n";
      for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
      if (close) out += "Connection: close\r\n";
      out += "\r\n" + r.body;
      asio::write(sock, asio::buffer(out), ec);
      if (close || ec) return;
    }
  }

  std::function<reply(const seen_request&)> handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<seen_request> requests_;
};

std::string result_json(const std::string& status, const std::string& message = "OK", const std::string& existing = "") {
  std::string s = "{\n  \"TxnId\": 7,\n  \"Label\": \"l\",\n  \"Status\": \"" + status + "\",\n";
  if (!existing.empty()) s += "  \"ExistingJobStatus\": \"" + existing + "\",\n";
  return s + "  \"Message\": \"" + message + "\",\n  \"NumberTotalRows\": 2,\n  \"NumberLoadedRows\": 2\n}";
}

load_request make_request(const std::string& label = "starpipe-c-t-abc-1") {
  load_request r;
  r.database = "db";
  r.table = "t";
  r.label = label;
  r.headers = {{"label", label}, {"format", "json"}, {"strip_outer_array", "true"}};
  r.body = std::make_shared<const std::string>("[{\"id\":1},{\"id\":2}]");
  r.rows = 2;
  return r;
}

client_settings settings_for(const std::vector<std::string>& fes) {
  client_settings s;
  s.fe_urls = fes;
  s.username = "root";
  s.password = "pw";
  s.timeouts.connect = std::chrono::milliseconds(500);
  s.timeouts.wait_for_continue = std::chrono::milliseconds(2000);
  s.timeouts.response = std::chrono::milliseconds(5000);
  return s;
}

// A port nothing listens on: connections to it are refused.
unsigned short closed_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// An FE that redirects every load to `be` and answers get_load_state with `state`.
std::function<reply(const seen_request&)> fe_redirecting_to(scripted_server*& be, std::string state = "VISIBLE") {
  return [&be, state](const seen_request& req) {
    reply r;
    if (req.target.find("get_load_state") != std::string::npos) {
      r.body = "{\"state\":\"" + state + "\",\"status\":\"OK\",\"code\":\"0\",\"msg\":\"Success\",\"message\":\"OK\"}";
      return r;
    }
    r.send_continue = false;
    r.status = 307;
    r.headers = {{"Location", be->url() + req.target}};
    return r;
  };
}

} // namespace

TEST_CASE("stream load client: FE 307 to the BE, headers and Basic auth re-sent, body after 100") {
  scripted_server be([](const seen_request&) { return reply{true, 200, result_json("Success"), {}, false, false}; });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  stream_load_client client(settings_for({fe.url()}));
  auto out = client.attempt(make_request());
  REQUIRE(out.response);
  CHECK(out.response->status == "Success");
  CHECK(decide(out, 1, retry_settings{}).what == retry_decision::action::done);

  auto fe_reqs = fe.requests();
  REQUIRE(fe_reqs.size() == 1);
  CHECK(fe_reqs[0].method == "PUT");
  CHECK(fe_reqs[0].target == "/api/db/t/_stream_load");
  CHECK(fe_reqs[0].headers["expect"] == "100-continue");
  CHECK(fe_reqs[0].headers["authorization"] == "Basic cm9vdDpwdw==");
  CHECK(fe_reqs[0].body.empty()); // the FE never gets the body
  auto be_reqs = be.requests();
  REQUIRE(be_reqs.size() == 1);
  CHECK(be_reqs[0].headers["authorization"] == "Basic cm9vdDpwdw==");
  CHECK(be_reqs[0].headers["label"] == "starpipe-c-t-abc-1");
  CHECK(be_reqs[0].headers["format"] == "json");
  CHECK(be_reqs[0].headers["strip_outer_array"] == "true");
  CHECK(be_reqs[0].body == "[{\"id\":1},{\"id\":2}]");
}

TEST_CASE("stream load client: keep-alive to the BE across loads") {
  scripted_server be([](const seen_request&) { return reply{true, 200, result_json("Success"), {}, false, false}; });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  stream_load_client client(settings_for({fe.url()}));
  for (int i = 0; i < 3; ++i) REQUIRE(client.attempt(make_request("l-" + std::to_string(i))).response);
  CHECK(be.requests().size() == 3);
  CHECK(be.connections() == 1);
  CHECK(fe.connections() == 3); // the FE closes after each stream-load answer
}

TEST_CASE("stream load client: FE auth failure is HTTP 401 and final") {
  scripted_server fe([](const seen_request&) {
    return reply{false, 401, "{\"status\":\"FAILED\",\"code\":\"1\",\"msg\":\"Access denied\"}",
                 {{"WWW-Authenticate", "Basic realm=\"\""}}, false, false};
  });
  stream_load_client client(settings_for({fe.url()}));
  auto out = client.attempt(make_request());
  CHECK(out.http_status == 401);
  auto d = decide(out, 1, retry_settings{});
  CHECK(d.what == retry_decision::action::fail);
  CHECK(d.reason.find("401") != std::string::npos);
}

TEST_CASE("stream load client: a final answer instead of 100 Continue; the body is not sent") {
  scripted_server be([](const seen_request&) {
    return reply{false, 200, result_json("Fail", "unknown table, table=t"), {}, false, false};
  });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  stream_load_client client(settings_for({fe.url()}));
  auto out = client.attempt(make_request());
  REQUIRE(out.response);
  CHECK(out.response->status == "Fail");
  CHECK_FALSE(out.body_may_have_landed);
  CHECK(be.requests().at(0).body.empty());
  CHECK(decide(out, 1, retry_settings{}).what == retry_decision::action::fail);
  // the client recovers: the next attempt opens a fresh connection and works
}

TEST_CASE("stream load client: 5xx then success, the retry carries the same label") {
  std::atomic<int> calls{0};
  scripted_server be([&](const seen_request&) {
    if (calls++ == 0) return reply{true, 503, "busy", {}, false, true};
    return reply{true, 200, result_json("Success"), {}, false, false};
  });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  stream_load_client client(settings_for({fe.url()}));
  auto req = make_request("same-label-1");
  auto first = client.attempt(req);
  CHECK(first.http_status == 503);
  auto d = decide(first, 1, retry_settings{});
  CHECK(d.what == retry_decision::action::retry);
  auto second = client.attempt(req);
  REQUIRE(second.response);
  CHECK(second.response->status == "Success");
  auto reqs = be.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].headers["label"] == "same-label-1");
  CHECK(reqs[1].headers["label"] == "same-label-1");
}

TEST_CASE("stream load client: Label Already Exists FINISHED is success, RUNNING asks get_load_state") {
  std::string existing = "FINISHED";
  scripted_server be([&](const seen_request&) {
    return reply{false, 200, result_json("Label Already Exists", "Label [l] has already been used.", existing), {},
                 false, false};
  });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep, "VISIBLE"));
  stream_load_client client(settings_for({fe.url()}));
  auto out = client.attempt(make_request());
  CHECK(decide(out, 2, retry_settings{}).what == retry_decision::action::done);
  existing = "RUNNING";
  out = client.attempt(make_request());
  CHECK(decide(out, 2, retry_settings{}).what == retry_decision::action::check_label);
  std::string error;
  auto st = client.load_state("db", "starpipe-c-t-abc-1", error);
  CHECK(error.empty());
  CHECK(st.state == "VISIBLE");
  CHECK(decide_from_label_state(st.state, 2, retry_settings{}).what == retry_decision::action::done);
  auto last = fe.requests().back();
  CHECK(last.method == "GET");
  CHECK(last.target == "/api/db/get_load_state?label=starpipe-c-t-abc-1");
  CHECK(last.headers["authorization"] == "Basic cm9vdDpwdw==");
}

TEST_CASE("stream load client: Fail with a retryable message, then a dropped connection after the body") {
  std::atomic<int> calls{0};
  scripted_server be([&](const seen_request&) {
    if (calls++ == 0) return reply{true, 200, result_json("Fail", "Service is shutting down, please retry later!"), {}, false, false};
    return reply{true, 200, "", {}, true, false};
  });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  stream_load_client client(settings_for({fe.url()}));
  auto out = client.attempt(make_request());
  CHECK(decide(out, 1, retry_settings{}).what == retry_decision::action::retry);
  out = client.attempt(make_request());
  CHECK(out.transport_error);
  CHECK(decide(out, 2, retry_settings{}).what == retry_decision::action::retry);
}

TEST_CASE("stream load client: fails over to the next FE when one is down") {
  unsigned short dead_port = closed_port();
  scripted_server be([](const seen_request&) { return reply{true, 200, result_json("Success"), {}, false, false}; });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  stream_load_client client(settings_for({"http://127.0.0.1:" + std::to_string(dead_port), fe.url()}));
  auto out = client.attempt(make_request());
  REQUIRE(out.response);
  CHECK(out.response->status == "Success");
  CHECK(client.current_fe() == fe.url());

  stream_load_client none(settings_for({"http://127.0.0.1:" + std::to_string(dead_port)}));
  auto failed = none.attempt(make_request());
  REQUIRE(failed.transport_error);
  CHECK(failed.transport_error->find("None of the hosts in starrocks.http.url could be connected") != std::string::npos);
}

// A FE that takes connections and never answers (a listening socket nobody accepts on: the
// kernel completes the handshake) is skipped within the deadlines, never waited on forever.
TEST_CASE("stream load client: a silent FE is skipped for the next one, and a stop cancels a hung request") {
  asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  silent.listen(16);
  const std::string silent_url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  scripted_server be([](const seen_request&) { return reply{true, 200, result_json("Success"), {}, false, false}; });
  scripted_server* bep = &be;
  scripted_server fe(fe_redirecting_to(bep));
  auto s = settings_for({silent_url, fe.url()});
  s.timeouts.control = std::chrono::milliseconds(300);
  s.timeouts.wait_for_continue = std::chrono::milliseconds(300);
  s.timeouts.response = std::chrono::milliseconds(60000);
  using clock = std::chrono::steady_clock;
  {
    stream_load_client client(s);
    auto t0 = clock::now();
    auto out = client.attempt(make_request()); // no 100 Continue from the silent FE: the next FE, same attempt
    REQUIRE_MESSAGE(out.response, out.transport_error.value_or(""));
    CHECK(out.response->status == "Success");
    CHECK(clock::now() - t0 < std::chrono::seconds(5));
    CHECK(client.current_fe() == fe.url());
  }
  {
    stream_load_client client(s);
    auto t0 = clock::now();
    std::string error;
    auto st = client.load_state("db", "l1", error); // a GET: the next FE too
    CHECK(st.state == "VISIBLE");
    CHECK(clock::now() - t0 < std::chrono::seconds(5));
  }
  {
    // A begin is not re-sent by the client itself, but its retry goes to the next FE.
    stream_load_client client(settings_for({silent_url, fe.url()}));
    auto only = settings_for({silent_url});
    only.timeouts.control = std::chrono::milliseconds(300);
    stream_load_client lone(only);
    load_request req = make_request();
    auto out = lone.call(txn_op::begin, req);
    REQUIRE(out.transport_error);
    CHECK_MESSAGE(out.transport_error->find("no answer within 300 ms") != std::string::npos, *out.transport_error);
    CHECK(out.transport_error->find(silent_url) != std::string::npos);
  }
  {
    // A load whose body went out and whose answer never comes waits the load's deadline
    // (60 s here) unless the process stops: cancel() ends it at once, and it is final.
    auto only = settings_for({silent_url});
    only.timeouts.wait_for_continue = std::chrono::milliseconds(60000);
    only.timeouts.response = std::chrono::milliseconds(60000);
    stream_load_client client(only);
    auto t0 = clock::now();
    std::thread stopper([&client] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      client.cancel(); // what http_client::cancel_all() does to every client at shutdown
    });
    auto out = client.attempt(make_request());
    stopper.join();
    CHECK(clock::now() - t0 < std::chrono::seconds(5));
    CHECK(out.cancelled);
    CHECK(decide(out, 1, retry_settings{}).what == retry_decision::action::fail);
    CHECK(decide_txn(txn_op::load, out, 1, retry_settings{}).what == txn_step::fail);
  }
}

TEST_CASE("stream load client: an unreachable BE behind the FE's 307 is named as the BE, not the FE") {
  unsigned short dead_port = closed_port();
  scripted_server fe([dead_port](const seen_request& req) {
    reply r;
    r.send_continue = false;
    r.status = 307;
    r.headers = {{"Location", "http://127.0.0.1:" + std::to_string(dead_port) + req.target}};
    return r;
  });
  stream_load_client client(settings_for({fe.url()}));
  auto out = client.attempt(make_request());
  REQUIRE(out.transport_error);
  CHECK(out.transport_error->find("BE 127.0.0.1:" + std::to_string(dead_port) + " (the FE's redirect)") !=
        std::string::npos);
  CHECK(out.transport_error->find("None of the hosts in starrocks.http.url") == std::string::npos);
}
