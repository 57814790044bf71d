#pragma once
/// One HTTP/1.1 connection: read a request (deadline, header and body limits),
/// check Host/Origin are loopback, route it, write the answer; upgrade /api/ws
/// to a WebSocketSession.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/beast/core/tcp_stream.hpp>

#include "web/router.h"
#include "web/websocket_session.h"

namespace kb::web {

struct HttpOptions {
  std::chrono::milliseconds read_timeout{
      10000};  ///< whole request, from its first byte or idle keep-alive
  std::uint32_t header_limit = 8 * 1024;
  std::uint64_t body_limit = 4 * 1024;  ///< our POST bodies are tiny JSON
  WebSocketOptions websocket;
  /// The management listener (management_listen): any Host, no Origin check and no
  /// WebSocket, since what it answers (/metrics, /healthz) carries no personal data.
  bool management = false;
};

/// Requests answered, by status class (index 1..5 = 1xx..5xx).
struct HttpCounters {
  std::array<std::atomic<std::uint64_t>, 6> by_class{};
  void count(unsigned status) { by_class[std::min<unsigned>(status / 100, 5)]++; }
};

struct HttpContext {
  const Router& router;
  Broadcaster& broadcaster;
  WebSocketSession::ActionSink on_action;
  HttpCounters& counters;
  HttpOptions options;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(net::ip::tcp::socket&& socket, const HttpContext& context);
  static net::awaitable<void> run(std::shared_ptr<HttpSession> self);
  /// Thread-safe: close the connection (shutdown).
  void close();
  /// Thread-safe: the connection became a WebSocket (the broadcaster's budget then).
  bool upgraded() const { return upgraded_; }
  const net::ip::address& peer() const { return peer_; }

 private:
  net::awaitable<void> loop();
  std::optional<Response> reject(const Request& req) const;

  Stream stream_;
  // Kept apart from stream_: after an upgrade stream_ is moved-from and has no executor.
  net::any_io_executor executor_;
  const HttpContext& context_;
  net::ip::address peer_;
  std::atomic<bool> upgraded_{false};
};

}  // namespace kb::web
