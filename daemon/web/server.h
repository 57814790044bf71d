#pragma once
/// The loopback HTTP/WebSocket server: accepts connections, runs one HttpSession
/// per connection on its own strand, and on stop() closes the listener and every
/// open connection. HTTP connections have their own budget, in all and per peer
/// address; when it is spent the oldest connection goes, so idle or slow sockets
/// can never keep /healthz or the page from being answered. WebSocket clients
/// have the broadcaster's budget.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "common/error.h"
#include "web/broadcaster.h"
#include "web/http_session.h"

namespace kb::web {

class Server {
 public:
  /// `counters` is shared with whoever reports metrics; it must outlive the server.
  Server(net::io_context& io, const Router& router, Broadcaster& broadcaster,
         HttpCounters& counters, WebSocketSession::ActionSink on_action, HttpOptions options = {},
         std::size_t max_http_connections = 32, std::size_t max_http_per_peer = 16);

  /// Binds and listens; the endpoint tells the port when 0 was asked for.
  Result<net::ip::tcp::endpoint> listen(const std::string& address, unsigned short port);
  /// Starts accepting (after listen()).
  void start();
  /// Thread-safe: stop accepting and close every connection and WebSocket client.
  void stop();

 private:
  static net::awaitable<void> acceptLoop(Server* self);

  net::io_context& io_;
  Strand strand_;  // owns acceptor_ and sessions_
  net::ip::tcp::acceptor acceptor_;
  HttpContext context_;
  std::size_t max_connections_;
  std::size_t max_per_peer_;
  std::vector<std::weak_ptr<HttpSession>> sessions_;
};

}  // namespace kb::web
