#include "console/tls_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

namespace kb::console {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

// Forward secrecy and AEAD only (TLS 1.2); TLS 1.3's suites are all of that kind.
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};

Result<void> loadCrl(SSL_CTX* ctx, const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return fail(Errc::Config, "console_crl: cannot read " + path);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  for (;;) {
    std::unique_ptr<X509_CRL, CrlFree> crl(
        PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl) break;
    if (X509_STORE_add_crl(store, crl.get()) != 1)
      return fail(Errc::Config, "console_crl: cannot use a CRL in " + path);
    ++count;
  }
  if (count == 0) return fail(Errc::Config, "console_crl: no PEM CRL in " + path);
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return {};
}

std::string nameEntry(X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

bool hasOu(X509_NAME* name, std::string_view ou) {
  for (int idx = -1;;) {
    idx = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, idx);
    if (idx < 0) return false;
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    std::string_view v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                       static_cast<std::size_t>(ASN1_STRING_length(data)));
    if (v == ou) return true;
  }
}

// A CN fit for logs and the audit log: printable ASCII, 1..64 characters.
bool plainCn(std::string_view cn) {
  if (cn.empty() || cn.size() > 64) return false;
  for (char c : cn)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  return true;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> makeServerContext(const TlsFiles& f) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, kCiphers) != 1)
    return fail(Errc::Config, "console: no usable cipher suite");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(f.cert, ec);
  if (ec) return fail(Errc::Config, "console_cert: " + f.cert + ": " + ec.message());
  ctx->use_private_key_file(f.key, ssl::context::pem, ec);
  if (ec) return fail(Errc::Config, "console_key: " + f.key + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1)
    return fail(Errc::Config, "console_key: does not belong to console_cert");
  ctx->load_verify_file(f.client_ca, ec);
  if (ec) return fail(Errc::Config, "console_client_ca: " + f.client_ca + ": " + ec.message());
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.client_ca.c_str()))
    SSL_CTX_set_client_CA_list(native, names);
  if (!f.crl.empty())
    if (auto r = loadCrl(native, f.crl); !r) return std::unexpected(r.error());
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  static const unsigned char kSessionContext[] = "kartu-bahagia-console";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

namespace {

using Stream = beast::ssl_stream<beast::tcp_stream>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(net::ip::tcp::socket&& socket, std::shared_ptr<ssl::context> ctx,
          std::shared_ptr<const ConsoleHandler> handler)
      : ctx_(std::move(ctx)), stream_(std::move(socket), *ctx_), handler_(std::move(handler)) {}

  static net::awaitable<void> run(std::shared_ptr<Session> self) { co_await self->loop(); }

  void close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_)
          .socket()
          .shutdown(net::ip::tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  net::awaitable<void> loop() {
    beast::error_code ec;
    auto& tcp = beast::get_lowest_layer(stream_);
    tcp.expires_after(std::chrono::seconds(10));
    co_await stream_.async_handshake(ssl::stream_base::server,
                                     net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      tcp.close();
      co_return;
    }
    // verify_fail_if_no_peer_cert already refused a missing or untrusted certificate.
    Operator op;
    X509* peer = SSL_get0_peer_certificate(stream_.native_handle());
    if (peer) {
      X509_NAME* subject = X509_get_subject_name(peer);
      op.cn = nameEntry(subject, NID_commonName);
      op.supervisor = hasOu(subject, "supervisor");
    }
    if (!peer || !plainCn(op.cn)) {
      tcp.close();
      co_return;
    }
    beast::flat_buffer buffer(20 * 1024);
    for (;;) {
      http::request_parser<http::string_body> parser;
      // Room for a 10 kB query string, so that it gets a 400 with a reason.
      parser.header_limit(16 * 1024);
      parser.body_limit(1024);
      tcp.expires_after(std::chrono::seconds(30));
      co_await http::async_read(stream_, buffer, parser,
                                net::redirect_error(net::use_awaitable, ec));
      web::Response res;
      bool keep_alive = false, head = false;
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        res = web::errorResponse(http::status::request_header_fields_too_large, "TOO_LARGE",
                                 "request header larger than 16 KiB");
      } else if (ec == http::error::body_limit) {
        res = web::errorResponse(http::status::payload_too_large, "TOO_LARGE",
                                 "the console takes no request bodies");
      } else if (ec) {
        break;
      } else {
        web::Request req = parser.release();
        keep_alive = req.keep_alive();
        head = req.method() == http::verb::head;
        res = co_await (*handler_)(req, op);
      }
      if (head && !res.body().empty()) {
        const auto size = res.body().size();
        res.body().clear();
        res.content_length(size);
      }
      res.set(http::field::strict_transport_security, "max-age=31536000");
      res.keep_alive(keep_alive);
      res.prepare_payload();
      if (head) res.content_length(res.body().size());
      tcp.expires_after(std::chrono::seconds(10));
      co_await http::async_write(stream_, res, net::redirect_error(net::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
    tcp.expires_after(std::chrono::seconds(2));
    co_await stream_.async_shutdown(net::redirect_error(net::use_awaitable, ec));
    tcp.close();
  }

  std::shared_ptr<ssl::context> ctx_;  // outlives stream_ (member order)
  Stream stream_;
  std::shared_ptr<const ConsoleHandler> handler_;
};

}  // namespace

// One worker thread and the io_context it alone runs (so concurrency hint 1).
struct Worker {
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> busy = net::make_work_guard(io);
  std::thread thread;
};

struct TlsServer::Impl {
  Impl(net::io_context& i, std::shared_ptr<ssl::context> c, ConsoleHandler h, unsigned threads,
       std::size_t max)
      : strand(net::make_strand(i)),
        acceptor(strand),
        ctx(std::move(c)),
        handler(std::make_shared<const ConsoleHandler>(std::move(h))),
        max_connections(max),
        workers(std::max(1u, threads)) {}
  net::strand<net::io_context::executor_type> strand;
  net::ip::tcp::acceptor acceptor;
  std::shared_ptr<ssl::context> ctx;
  std::shared_ptr<const ConsoleHandler> handler;
  std::size_t max_connections;
  std::vector<std::weak_ptr<Session>> sessions;  // on strand
  std::vector<Worker> workers;                   // never resized (a Worker cannot move)
  std::size_t next_worker = 0;                   // on strand: connections dealt round-robin
};

TlsServer::TlsServer(net::io_context& io, std::shared_ptr<ssl::context> ctx, ConsoleHandler handler,
                     unsigned threads, std::size_t max_connections)
    : impl_(std::make_shared<Impl>(io, std::move(ctx), std::move(handler), threads,
                                   max_connections)) {}

TlsServer::~TlsServer() {
  for (auto& w : impl_->workers) w.io.stop();
  for (auto& w : impl_->workers)
    if (w.thread.joinable()) w.thread.join();
}

Result<net::ip::tcp::endpoint> TlsServer::listen(const std::string& address, unsigned short port) {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(address, ec);
  if (ec) return fail(Errc::Config, "console_listen: bad address '" + address + "'");
  net::ip::tcp::endpoint endpoint(addr, port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(Errc::Io,
                "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  return a.local_endpoint();
}

void TlsServer::start() {
  auto impl = impl_;
  for (auto& w : impl->workers) w.thread = std::thread([&io = w.io] { io.run(); });
  net::co_spawn(
      impl->strand,
      [impl]() -> net::awaitable<void> {
        boost::system::error_code ec;
        while (impl->acceptor.is_open()) {
          auto& worker = impl->workers[impl->next_worker++ % impl->workers.size()];
          auto socket = co_await impl->acceptor.async_accept(
              worker.io, net::redirect_error(net::use_awaitable, ec));
          if (ec) {
            if (!impl->acceptor.is_open()) break;
            continue;
          }
          std::erase_if(impl->sessions, [](const auto& w) { return w.expired(); });
          if (impl->sessions.size() >= impl->max_connections) {
            socket.close(ec);
            continue;
          }
          socket.set_option(net::ip::tcp::no_delay(true), ec);
          auto executor = socket.get_executor();
          auto session = std::make_shared<Session>(std::move(socket), impl->ctx, impl->handler);
          impl->sessions.push_back(session);
          net::co_spawn(executor, Session::run(session), net::detached);
        }
      },
      net::detached);
}

void TlsServer::replaceContext(std::shared_ptr<ssl::context> ctx) {
  auto impl = impl_;
  net::post(impl->strand, [impl, ctx = std::move(ctx)]() mutable {
    impl->ctx = std::move(ctx);
    for (auto& w : impl->sessions)
      if (auto s = w.lock()) s->close();
    impl->sessions.clear();
  });
}

void TlsServer::stop() {
  auto impl = impl_;
  net::post(impl->strand, [impl] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    for (auto& w : impl->sessions)
      if (auto s = w.lock()) s->close();
    impl->sessions.clear();
    for (auto& w : impl->workers) w.busy.reset();
  });
}

}  // namespace kb::console
