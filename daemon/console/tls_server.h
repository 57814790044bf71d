#pragma once
/// The console's HTTPS listener: Boost.Beast over OpenSSL, client certificates
/// only. TLS 1.2 and 1.3 with forward-secret AEAD suites; a connection without
/// a certificate from the console CA (or with an expired or revoked one, when a
/// CRL is configured) fails in the handshake and never reaches HTTP. The
/// operator is the certificate's subject CN; OU=supervisor marks a supervisor.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>  // boost/asio/awaitable.hpp (1.74) needs std::exchange
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/error.h"
#include "web/response.h"

namespace kb::console {

struct TlsFiles {
  std::string cert;       ///< server certificate chain (PEM)
  std::string key;        ///< its private key (PEM, unencrypted; the file mode protects it)
  std::string client_ca;  ///< the console CA that signs operator certificates
  std::string crl;        ///< optional: the console CA's CRL (PEM); empty = none
};

/// The server context; CONFIG with the file and reason when a file is unusable.
Result<std::shared_ptr<boost::asio::ssl::context>> makeServerContext(const TlsFiles& files);

struct Operator {
  std::string cn;
  bool supervisor = false;
};

/// A coroutine, so that an answer can wait (for its audit line to reach the
/// disk) without holding one of the server's threads.
using ConsoleHandler =
    std::function<boost::asio::awaitable<web::Response>(const web::Request&, const Operator&)>;

/// Accepts on the caller's io_context; each connection then lives on one of
/// `threads` worker threads, each with an io_context of its own, so that a
/// request's work never crosses threads and needs no strand or shared queue.
class TlsServer {
 public:
  TlsServer(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> ctx,
            ConsoleHandler handler, unsigned threads, std::size_t max_connections = 256);
  /// Stops the worker threads (what they still had queued is dropped) and joins them.
  ~TlsServer();
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& address, unsigned short port);
  /// Starts accepting and the worker threads.
  void start();
  /// Thread-safe: stop accepting and close every connection; the worker
  /// threads end once their connections have (or at the destructor).
  void stop();
  /// Thread-safe: new connections use `ctx` (e.g. with a re-read CRL); the
  /// connections opened under the old one are closed, so that a certificate
  /// revoked since keeps no open connection (browsers simply reconnect).
  void replaceContext(std::shared_ptr<boost::asio::ssl::context> ctx);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kb::console
