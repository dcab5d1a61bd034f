#include "protocol/stream_load/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <regex>

namespace starpipe::stream_load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::optional<std::pair<http_endpoint, std::string>> parse_http_url(const std::string& url) {
  static const std::regex re(R"(^http://([^/:\[\]]+|\[[^\]]+\]):([0-9]+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) return std::nullopt;
  std::string target = m[3].matched ? std::string(m[3]) : "/";
  return std::make_pair(http_endpoint{m[1], m[2]}, target);
}

namespace {
// Every client of the process, for cancel_all().
std::mutex registry_mutex;
std::set<http_client*> registry;
bool all_cancelled = false;
} // namespace

struct http_client::impl {
  http_timeouts timeouts;
  asio::io_context ioc;
  std::map<std::string, std::unique_ptr<beast::tcp_stream>> connections;
  beast::flat_buffer buffer;
  std::atomic<bool> cancelled{false};

  explicit impl(http_timeouts t) : timeouts(t) {}

  // Runs the queued async operation to completion on this thread. After cancel() the
  // operation is abandoned: run() returns at once (stop() makes it so until restart()).
  void run() {
    ioc.restart();
    if (cancelled) return;
    ioc.run();
  }

  // The error code of an operation run() left unfinished or that cancel() interrupted.
  bool interrupted(beast::error_code& ec) {
    if (!cancelled) return false;
    ec = asio::error::operation_aborted;
    return true;
  }

  std::unique_ptr<beast::tcp_stream> connect(const http_endpoint& to, beast::error_code& ec) {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(to.host, to.port, ec);
    if (ec) return nullptr;
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_after(timeouts.connect);
    stream->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    interrupted(ec);
    if (ec) return nullptr;
    stream->socket().set_option(tcp::no_delay(true));
    return stream;
  }

  result exchange(beast::tcp_stream& stream, const http_endpoint& to, const http_request& req, bool& reusable) {
    result res;
    http::request<http::buffer_body> msg;
    msg.method(http::string_to_verb(req.method));
    msg.target(req.target);
    msg.version(11);
    msg.set(http::field::host, to.host + ":" + to.port);
    for (const auto& [k, v] : req.headers) msg.set(k, v);
    if (req.expect_continue) msg.set(http::field::expect, "100-continue");
    size_t body_size = req.body ? req.body->size() : 0;
    msg.content_length(body_size);
    msg.body().data = req.body ? const_cast<char*>(req.body->data()) : nullptr;
    msg.body().size = body_size;
    msg.body().more = false;

    http::request_serializer<http::buffer_body> sr{msg};
    beast::error_code ec;
    const auto response_deadline = req.response_deadline.value_or(timeouts.response);
    stream.expires_after(response_deadline);
    http::async_write_header(stream, sr, [&](beast::error_code e, size_t) { ec = e; });
    run();
    interrupted(ec);
    if (ec) {
      res.error = http_error{"sending request headers: " + ec.message(), false, false, true};
      reusable = false;
      return res;
    }

    auto parser = std::make_unique<http::response_parser<http::string_body>>();
    parser->body_limit(64 * 1024 * 1024);
    bool body_sent = false;
    if (req.expect_continue) {
      stream.expires_after(timeouts.wait_for_continue);
      http::async_read_header(stream, buffer, *parser, [&](beast::error_code e, size_t) { ec = e; });
      run();
      interrupted(ec);
      if (ec) {
        res.error = http_error{"waiting for 100 Continue: " + describe(ec, timeouts.wait_for_continue), false, false,
                               buffer.size() == 0};
        reusable = false;
        return res;
      }
      if (parser->get().result_int() != 100) {
        // A final answer before the body (redirect, auth or validation failure): read it
        // and drop the connection, since the server is not expecting our body any more.
        stream.expires_after(response_deadline);
        http::async_read(stream, buffer, *parser, [&](beast::error_code e, size_t) { ec = e; });
        run();
        interrupted(ec);
        reusable = false;
        if (ec) {
          res.error = http_error{"reading answer: " + ec.message(), false, false};
          return res;
        }
        res.response = to_response(parser->release(), false);
        return res;
      }
      parser = std::make_unique<http::response_parser<http::string_body>>();
      parser->body_limit(64 * 1024 * 1024);
    }
    if (body_size > 0 || !sr.is_done()) {
      body_sent = true;
      stream.expires_after(response_deadline);
      http::async_write(stream, sr, [&](beast::error_code e, size_t) { ec = e; });
      run();
      interrupted(ec);
      if (ec) {
        res.error = http_error{"sending body: " + ec.message(), false, true};
        reusable = false;
        return res;
      }
    }
    stream.expires_after(response_deadline);
    const size_t buffered_before = buffer.size();
    http::async_read(stream, buffer, *parser, [&](beast::error_code e, size_t) { ec = e; });
    run();
    interrupted(ec);
    if (ec) {
      res.error = http_error{"reading answer: " + describe(ec, response_deadline), false, body_sent,
                             buffer.size() == buffered_before && !parser->got_some()};
      reusable = false;
      return res;
    }
    auto response = parser->release();
    reusable = response.keep_alive();
    res.response = to_response(std::move(response), body_sent);
    return res;
  }

  static std::string describe(const beast::error_code& ec, std::chrono::milliseconds deadline) {
    if (ec == beast::error::timeout) return "no answer within " + std::to_string(deadline.count()) + " ms";
    return ec.message();
  }

  static http_response to_response(http::response<http::string_body>&& r, bool body_sent) {
    http_response out;
    out.status = r.result_int();
    for (const auto& f : r) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(r.body());
    out.body_sent = body_sent;
    return out;
  }
};

http_client::http_client(http_timeouts t) : impl_(std::make_unique<impl>(t)) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry.insert(this);
  if (all_cancelled) impl_->cancelled = true;
}

http_client::~http_client() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(this);
  }
  close_all();
}

void http_client::cancel() {
  impl_->cancelled = true;
  impl_->ioc.stop(); // thread-safe; a run() under way returns
}

bool http_client::cancelled() const { return impl_->cancelled; }

void http_client::cancel_all() {
  std::lock_guard<std::mutex> lock(registry_mutex);
  all_cancelled = true;
  for (auto* c : registry) c->cancel();
}

void http_client::close_all() {
  for (auto& [k, s] : impl_->connections) {
    beast::error_code ec;
    s->socket().shutdown(tcp::socket::shutdown_both, ec);
    s->socket().close(ec);
  }
  impl_->connections.clear();
}

http_client::result http_client::send(const http_endpoint& to, const http_request& req) {
  // A kept-alive connection may have been closed by the server meanwhile; one fresh retry
  // is safe only if the stale one failed before anything could be processed.
  for (int round = 0; round < 2; ++round) {
    if (impl_->cancelled) {
      result r;
      r.error = http_error{"cancelled: the process is stopping", true, false, true};
      return r;
    }
    auto it = impl_->connections.find(to.key());
    bool reused = it != impl_->connections.end();
    std::unique_ptr<beast::tcp_stream> stream;
    if (reused) {
      stream = std::move(it->second);
      impl_->connections.erase(it);
    } else {
      beast::error_code ec;
      stream = impl_->connect(to, ec);
      if (!stream) {
        result r;
        r.error = http_error{"connecting to " + to.key() + ": " + ec.message(), true, false};
        return r;
      }
    }
    impl_->buffer.clear();
    bool reusable = false;
    auto r = impl_->exchange(*stream, to, req, reusable);
    if (r.error && reused && !r.error->body_sent && round == 0) continue;
    if (reusable && r.response) {
      impl_->connections[to.key()] = std::move(stream);
    } else {
      beast::error_code ec;
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream->socket().close(ec);
    }
    return r;
  }
  return {};
}

} // namespace starpipe::stream_load
