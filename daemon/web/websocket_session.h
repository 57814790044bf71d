#pragma once
/// One WebSocket client of /api/ws: receives every state document through a
/// bounded queue (a client that falls behind is dropped: it reconnects and gets
/// the current state), and sends small JSON actions that go to the ActionSink.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "web/response.h"

namespace kb::web {

class Broadcaster;

struct WebSocketOptions {
  std::size_t queue_limit = 16;           ///< queued states before a slow client is dropped
  std::size_t message_limit = 1024;       ///< largest client message (actions are tiny)
  std::chrono::seconds idle_timeout{30};  ///< no traffic (pings unanswered) -> closed
};

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  using ActionSink = std::function<void(std::string)>;

  WebSocketSession(boost::beast::tcp_stream&& stream, Broadcaster& broadcaster, ActionSink sink,
                   WebSocketOptions options);

  /// Accepts the upgrade `req` and runs until the client goes or close() is called.
  static net::awaitable<void> run(std::shared_ptr<WebSocketSession> self, Request req);

  /// Thread-safe: queue a message (drops the client if its queue is full).
  void send(std::shared_ptr<const std::string> message);
  /// Thread-safe: close the connection.
  void close();
  bool closed() const { return closed_; }

 private:
  static net::awaitable<void> writeLoop(std::shared_ptr<WebSocketSession> self);
  void shutdown();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  Broadcaster& broadcaster_;
  ActionSink sink_;
  WebSocketOptions options_;
  net::steady_timer wake_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::atomic<bool> closed_{false};
};

}  // namespace kb::web
