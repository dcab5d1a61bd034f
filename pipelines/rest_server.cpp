#include "pipelines/rest_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/pkcs12.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "protocol/rest/connect_api.h"

namespace starpipe::pipelines {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& lowest(beast::ssl_stream<beast::tcp_stream>& s) { return beast::get_lowest_layer(s); }

// One connection: requests answered in turn (keep-alive), over plain TCP or TLS.
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  template <class... Args>
  session(const rest::api_context& ctx, Args&&... args) : stream_(std::forward<Args>(args)...), ctx_(ctx) {}

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      lowest(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return; // not TLS, or a failed handshake: nothing to answer
        self->read();
      });
    }
  }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(1024 * 1024); // REST bodies are small configs
    lowest(stream_).expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
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
      res = {500, "{\"error_code\":500,\"message\":\"internal error\"}", "application/json"};
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
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep](beast::error_code ec, size_t) {
      if (ec || !keep) return self->close();
      self->read();
    });
  }
  void close() {
    beast::error_code ec;
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      lowest(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        lowest(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
      return;
    }
    lowest(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const rest::api_context& ctx_;
};

std::string read_file(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(key + "=" + path + ": cannot read the file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Asio reads PEM only; a PKCS12 keystore goes through OpenSSL's own parser.
void load_pkcs12(ssl::context& tls, const std::string& der, const std::string& password) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (!p12) throw std::runtime_error("ssl.keystore.location: not a PKCS12 file");
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  bool parsed = PKCS12_parse(p12, password.c_str(), &key, &cert, &chain) == 1;
  PKCS12_free(p12);
  if (!parsed || !key || !cert) {
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    throw std::runtime_error("ssl.keystore.location: cannot open the PKCS12 keystore (wrong ssl.keystore.password, "
                             "or no key and certificate in it)");
  }
  SSL_CTX* ctx = tls.native_handle();
  bool ok = SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  for (int i = 0; ok && chain && i < sk_X509_num(chain); ++i) {
    X509* extra = sk_X509_value(chain, i);
    X509_up_ref(extra);
    ok = SSL_CTX_add_extra_chain_cert(ctx, extra) == 1;
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(chain, X509_free);
  if (!ok || SSL_CTX_check_private_key(ctx) != 1)
    throw std::runtime_error("ssl.keystore.location: the PKCS12 keystore's key does not match its certificate");
}

// The https listener's key and certificate chain, from a PEM or PKCS12 keystore (Kafka
// Connect's ssl.keystore.* keys). Errors name the key; passwords never appear in them.
void load_keystore(ssl::context& tls, const conf::worker_config::tls_settings& t) {
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  try {
    if (t.keystore_type == "PKCS12") {
      load_pkcs12(tls, read_file(t.keystore_location, "ssl.keystore.location"), t.keystore_password);
      return;
    }
    std::string pem_key = t.key, pem_chain = t.certificate_chain;
    if (pem_key.empty()) pem_key = pem_chain = read_file(t.keystore_location, "ssl.keystore.location");
    if (!t.key_password.empty())
      tls.set_password_callback([pw = t.key_password](std::size_t, ssl::context::password_purpose) { return pw; });
    tls.use_certificate_chain(asio::buffer(pem_chain));
    tls.use_private_key(asio::buffer(pem_key), ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(std::string("https listener: ssl.keystore (") + t.keystore_type +
                             "): cannot use the key or certificate chain: " + e.code().message());
  }
}

} // namespace

constexpr int rest_threads = 4;

struct rest_server::impl {
  asio::io_context ioc{rest_threads};
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;
  rest_backend backend;
  std::shared_ptr<const conf::worker_config> worker;
  rest::api_context ctx;
  std::vector<std::thread> threads;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (!ec) {
        if (tls)
          std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(ctx, std::move(s), *tls)->start();
        else
          std::make_shared<session<beast::tcp_stream>>(ctx, std::move(s))->start();
      }
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
  if (impl_->worker->rest_tls) {
    impl_->tls.emplace(ssl::context::tls_server);
    load_keystore(*impl_->tls, impl_->worker->rest_tls_settings);
  }
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

std::string rest_server::scheme() const { return impl_->tls ? "https" : "http"; }

} // namespace starpipe::pipelines
