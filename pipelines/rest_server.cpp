#include "pipelines/rest_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/pkcs12.h>

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
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

// A connection the listener can close when it needs the slot: the oldest one that waits
// for a request (idle keep-alive, or a client that never sends) goes first.
struct evictable {
  virtual ~evictable() = default;
  virtual void evict() = 0;
};

// The live connections, capped. Thread-safe: the I/O threads accept and close concurrently.
class connection_table {
public:
  explicit connection_table(size_t cap) : cap_(cap) {}
  size_t cap() const { return cap_; }

  // A slot for a new connection; when all are taken the oldest idle connection is closed to
  // make room. False when every connection is busy with a request.
  bool admit() {
    std::shared_ptr<evictable> victim;
    {
      std::lock_guard<std::mutex> g(m_);
      if (live_ < cap_) {
        ++live_;
        return true;
      }
      victim = oldest_idle_locked();
      if (!victim) return false;
      ++evicting_; // the victim's slot passes to the newcomer: its release frees nothing
    }
    victim->evict();
    return true;
  }
  // Frees a slot (a connection closed). Every admitted connection calls it exactly once.
  void release(const void* who) {
    std::lock_guard<std::mutex> g(m_);
    idle_.erase(who);
    if (evicting_ > 0) {
      --evicting_;
      return; // the evicted connection's slot was already given away
    }
    if (live_ > 0) --live_;
  }
  void set_idle(const void* who, std::weak_ptr<evictable> e) {
    std::lock_guard<std::mutex> g(m_);
    idle_[who] = {std::chrono::steady_clock::now(), std::move(e)};
  }
  void set_busy(const void* who) {
    std::lock_guard<std::mutex> g(m_);
    idle_.erase(who);
  }
  // Closes one idle connection (out of file descriptors); false when none is idle.
  bool shed_one() {
    std::shared_ptr<evictable> victim;
    {
      std::lock_guard<std::mutex> g(m_);
      victim = oldest_idle_locked();
    }
    if (victim) victim->evict();
    return victim != nullptr;
  }

private:
  std::shared_ptr<evictable> oldest_idle_locked() {
    auto best = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it)
      if (best == idle_.end() || it->second.since < best->second.since) best = it;
    if (best == idle_.end()) return nullptr;
    auto victim = best->second.who.lock();
    idle_.erase(best);
    return victim;
  }
  struct idle_entry {
    std::chrono::steady_clock::time_point since;
    std::weak_ptr<evictable> who;
  };
  std::mutex m_;
  size_t cap_;
  size_t live_ = 0;
  size_t evicting_ = 0;
  std::map<const void*, idle_entry> idle_;
};

// How long a connection may wait to send its request (headers and body) once it is idle.
constexpr auto idle_timeout = std::chrono::seconds(30);
// How long a write may wait for the worker to finish starting (Kafka Connect's request timeout).
constexpr auto startup_hold = std::chrono::seconds(90);

bool is_connector_write(const rest::request& r) {
  return r.method != "GET" && r.target.rfind("/connectors", 0) == 0;
}

// One connection: requests answered in turn (keep-alive), over plain TCP or TLS. Reads
// and writes run on the I/O threads; requests that may block (REST writes reach Kafka)
// run on the worker pool, so they never hold the threads that answer GET /.
template <class Stream>
class session : public evictable, public std::enable_shared_from_this<session<Stream>> {
public:
  template <class... Args>
  session(const rest::api_context& ctx, connection_table& table, asio::thread_pool& workers, Args&&... args)
      : stream_(std::forward<Args>(args)...), ctx_(ctx), table_(table), workers_(workers) {}
  ~session() override { table_.release(this); }

  void evict() override {
    // From any thread: the socket's own executor closes it.
    asio::post(lowest(stream_).get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      lowest(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      lowest(self->stream_).socket().close(ec);
    });
  }

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
    parser_->header_limit(16 * 1024);
    table_.set_idle(this, this->weak_from_this());
    lowest(stream_).expires_after(idle_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->table_.set_busy(self.get());
      if (!ec) return self->serve();
      if (auto status = status_for(ec)) return self->reply_error(status->first, status->second);
      self->close();
    });
  }

  // A request Beast could not read that deserves an answer rather than a closed socket.
  static std::optional<std::pair<int, std::string>> status_for(const beast::error_code& ec) {
    if (ec == http::error::body_limit) return std::make_pair(413, std::string("Request body too large"));
    if (ec == http::error::header_limit)
      return std::make_pair(431, std::string("Request header fields too large (16 KiB at most)"));
    if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return std::make_pair(400, std::string("Bad request: ") + ec.message());
    return std::nullopt;
  }

  void serve() {
    const auto& req = parser_->get();
    auto r = std::make_shared<rest::request>(
        rest::request{std::string(req.method_string()), std::string(req.target()), req.body()});
    const bool keep = req.keep_alive();
    if (req.version() != 10 && req.version() != 11) // e.g. an HTTP/2 preface
      return write(505, error_body(505, "HTTP version not supported: HTTP/1.0 and HTTP/1.1 are served"),
                   "application/json", false);
    if (req.target().size() > 8192) return write(414, error_body(414, "URI too long (8 KiB at most)"), "application/json", false);
    if (ctx_.worker && !rest::authorized(std::string(req[http::field::authorization]), ctx_.worker->rest_users))
      return write(401, "{\"error_code\":401,\"message\":\"User cannot access the resource.\"}", "application/json",
                   keep, true);
    if (r->method == "GET" || !ctx_.admin) return answer(keep, handle_now(*r));
    // A write may wait for Kafka, or for the worker to finish starting: off the I/O threads.
    asio::post(workers_, [self = this->shared_from_this(), r, keep] {
      auto res = self->handle_when_ready(*r);
      asio::post(lowest(self->stream_).get_executor(),
                 [self, keep, res = std::move(res)]() mutable { self->answer(keep, std::move(res)); });
    });
  }

  rest::response handle_now(const rest::request& r) {
    try {
      return rest::handle(r, ctx_);
    } catch (const std::exception& e) {
      LOG_ERROR("rest", "request " << r.method << " " << r.target << " failed: " << e.what());
      return {500, error_body(500, "internal error"), "application/json"};
    }
  }

  // Kafka Connect queues a write that comes while its worker starts; so does this, up to
  // its request timeout, then answers as it does.
  rest::response handle_when_ready(const rest::request& r) {
    if (is_connector_write(r) && !ctx_.admin->ready()) {
      const auto until = std::chrono::steady_clock::now() + startup_hold;
      while (!ctx_.admin->ready() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!ctx_.admin->ready()) return {500, error_body(500, "Request timed out"), "application/json"};
    }
    return handle_now(r);
  }

  void answer(bool keep, rest::response res) {
    write(res.status, res.body, res.content_type, keep, false, res.location);
  }

  static std::string error_body(int status, const std::string& message) {
    return "{\"error_code\":" + std::to_string(status) + ",\"message\":\"" + message + "\"}";
  }
  void reply_error(int status, const std::string& message) { write(status, error_body(status, message), "application/json", false); }
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
    lowest(stream_).expires_after(idle_timeout); // a client that does not read its answer
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
  connection_table& table_;
  asio::thread_pool& workers_;
};

// A quarter of the process's file descriptors at most, so a flood of connections can never
// take the ones loads and Kafka need.
size_t connection_cap() {
  rlimit rl{};
  size_t fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 4096;
  return std::clamp<size_t>(fds / 4, 8, 1024);
}

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
constexpr int write_threads = 4;

struct rest_server::impl {
  // First, so they outlive the handlers (and the sessions they hold) that ioc destroys.
  connection_table table{connection_cap()};
  asio::thread_pool writes{write_threads};
  asio::io_context ioc{rest_threads};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer backoff{ioc};
  std::optional<ssl::context> tls;
  rest_backend backend;
  std::shared_ptr<const conf::worker_config> worker;
  rest::api_context ctx;
  std::vector<std::thread> threads;
  bool warned_fds = false;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec.value() == ENOMEM || ec.value() == ENOBUFS) {
        // Out of file descriptors: close an idle connection and try again a little later
        // instead of spinning on the error.
        if (!warned_fds) LOG_WARN("rest", "accept: " << ec.message() << "; closing idle REST connections");
        warned_fds = true;
        table.shed_one();
        backoff.expires_after(std::chrono::milliseconds(50));
        backoff.async_wait([this](beast::error_code e) {
          if (!e && acceptor.is_open()) accept();
        });
        return;
      }
      if (!ec) {
        if (!table.admit()) {
          // Every connection is busy with a request: refuse this one at once.
          beast::error_code ignored;
          s.shutdown(tcp::socket::shutdown_both, ignored);
          s.close(ignored);
        } else if (tls) {
          std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(ctx, table, writes, std::move(s), *tls)->start();
        } else {
          std::make_shared<session<beast::tcp_stream>>(ctx, table, writes, std::move(s))->start();
        }
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
  impl_->writes.stop();
  impl_->writes.join();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

unsigned short rest_server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string rest_server::scheme() const { return impl_->tls ? "https" : "http"; }

} // namespace starpipe::pipelines
