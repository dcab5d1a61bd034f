#include "pipelines/rest_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

#include "common/log.h"
#include "protocol/rest/connect_api.h"

namespace starpipe::pipelines {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket s, const rest::api_context& ctx) : stream_(std::move(s)), ctx_(ctx) {}
  void start() { read(); }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(1024 * 1024); // REST bodies are small configs
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->reply_error(413, "Request body too large");
      if (ec) return self->close();
      self->serve();
    });
  }
  void serve() {
    const auto& req = parser_->get();
    rest::request r{std::string(req.method_string()), std::string(req.target()), req.body()};
    if (ctx_.worker && !rest::authorized(std::string(req[http::field::authorization]), ctx_.worker->rest_users))
      return write(401, "{\"error_code\":401,\"message\":\"User cannot access the resource.\"}", "application/json",
                   req.keep_alive(), true);
    rest::response res;
    try {
      res = rest::handle(r, ctx_);
    } catch (const std::exception& e) {
      res = {500, std::string("{\"error_code\":500,\"message\":\"") + "internal error" + "\"}", "application/json"};
      LOG_ERROR("rest", "request " << r.method << " " << r.target << " failed: " << e.what());
    }
    write(res.status, res.body, res.content_type, req.keep_alive(), false, res.location);
  }
  void reply_error(int status, const std::string& message) {
    write(status, "{\"error_code\":" + std::to_string(status) + ",\"message\":\"" + message + "\"}", "application/json",
          false);
  }
  void write(int status, std::string body, const std::string& type, bool keep, bool challenge = false,
             const std::string& location = "") {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(static_cast<unsigned>(status));
    res->version(11);
    res->set(http::field::content_type, type);
    if (challenge) res->set(http::field::www_authenticate, "Basic realm=\"starpipe\"");
    if (!location.empty()) res->set(http::field::location, location);
    res->body() = std::move(body);
    res->keep_alive(keep);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
      if (ec || !keep) return self->close();
      self->read();
    });
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const rest::api_context& ctx_;
};

} // namespace

constexpr int rest_threads = 4;

struct rest_server::impl {
  asio::io_context ioc{rest_threads};
  tcp::acceptor acceptor{ioc};
  rest_backend backend;
  std::shared_ptr<const conf::worker_config> worker;
  rest::api_context ctx;
  std::vector<std::thread> threads;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (!ec) std::make_shared<session>(std::move(s), ctx)->start();
      if (acceptor.is_open()) accept();
    });
  }
};

rest_server::rest_server(const std::string& host, unsigned short port, std::shared_ptr<const conf::worker_config> worker,
                         rest_backend backend)
    : impl_(std::make_unique<impl>()) {
  impl_->backend = std::move(backend);
  impl_->worker = std::move(worker);
  impl_->ctx.registry = impl_->backend.view.get();
  impl_->ctx.metrics = impl_->backend.metrics ? impl_->backend.metrics.get() : impl_->backend.view.get();
  impl_->ctx.admin = impl_->backend.admin;
  impl_->ctx.worker = impl_->worker.get();
  impl_->ctx.worker_id = impl_->worker->worker_id;
  impl_->ctx.version = STARPIPE_VERSION;
  try {
    tcp::endpoint ep{asio::ip::make_address(host), port};
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  impl_->accept();
  for (int i = 0; i < rest_threads; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

rest_server::~rest_server() {
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

unsigned short rest_server::port() const { return impl_->acceptor.local_endpoint().port(); }

} // namespace starpipe::pipelines
