#pragma once
/// One WebSocket client of /api/ws: receives every state document through a
/// bounded queue (a client that falls behind is dropped: it reconnects and gets
/// the current state), and sends small JSON actions that go to the ActionSink.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "web/response.h"

namespace kb::web {

class Broadcaster;

/// A Beast rate policy that limits nothing and counts the bytes read: Beast skips
/// empty non-final WebSocket frames inside its read, so only the bytes on the wire
/// show a client that sends frames without ever finishing a message.
class ByteCounter {
 public:
  std::uint64_t bytesRead() const { return read_; }

 private:
  friend class boost::beast::rate_policy_access;
  // Beast calls these by these names (its RatePolicy interface).
  // NOLINTBEGIN(readability-identifier-naming)
  std::size_t available_read_bytes() const noexcept {
    return (std::numeric_limits<std::size_t>::max)();
  }
  std::size_t available_write_bytes() const noexcept {
    return (std::numeric_limits<std::size_t>::max)();
  }
  void transfer_read_bytes(std::size_t n) noexcept { read_ += n; }
  void transfer_write_bytes(std::size_t) noexcept {}
  void on_timer() noexcept {}
  // NOLINTEND(readability-identifier-naming)
  std::uint64_t read_ = 0;
};
/// The TCP stream of every connection (HTTP, then WebSocket after an upgrade).
using Stream = boost::beast::basic_stream<net::ip::tcp, net::any_io_executor, ByteCounter>;

struct WebSocketOptions {
  std::size_t queue_limit = 16;           ///< queued states before a slow client is dropped
  std::size_t message_limit = 1024;       ///< largest client message (actions are tiny)
  std::chrono::seconds idle_timeout{30};  ///< no traffic (pings unanswered) -> closed
  /// Bytes a client may send without completing a message (at least 6 per frame: this
  /// bounds the frame count too), and how long one message may take to arrive.
  std::uint64_t assembly_bytes_limit = 16 * 1024;
  std::chrono::milliseconds assembly_timeout{5000};
};

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  using ActionSink = std::function<void(std::string)>;

  WebSocketSession(Stream&& stream, Broadcaster& broadcaster, ActionSink sink,
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
  static net::awaitable<void> watchdog(std::shared_ptr<WebSocketSession> self);
  void shutdown();
  std::uint64_t bytesRead();

  boost::beast::websocket::stream<Stream> ws_;
  Broadcaster& broadcaster_;
  ActionSink sink_;
  WebSocketOptions options_;
  net::steady_timer wake_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::uint64_t message_mark_ = 0;  // bytes read when the last message (or pong) completed
  std::optional<std::chrono::steady_clock::time_point> pending_since_;
  std::atomic<bool> closed_{false};
};

}  // namespace kb::web
