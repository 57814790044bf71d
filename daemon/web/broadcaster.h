#pragma once
/// Hands every new state document to every WebSocket client, and the latest one
/// to each client that connects. Lives on one strand (the kiosk's), so the
/// subscriber list needs no lock.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>  // boost/asio/awaitable.hpp (1.74) needs std::exchange
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace kb::web {

namespace net = boost::asio;
using Strand = net::strand<net::io_context::executor_type>;

class WebSocketSession;

class Broadcaster {
 public:
  /// At most `max_clients` WebSocket clients: a new one closes the oldest, so the
  /// kiosk page's reconnect always gets in, however many idle sockets are open.
  explicit Broadcaster(Strand strand, std::size_t max_clients = 8)
      : strand_(std::move(strand)), max_clients_(max_clients) {}

  // All thread-safe: they post to the strand.
  void publish(std::shared_ptr<const std::string> message);
  void subscribe(std::shared_ptr<WebSocketSession> session);
  void closeAll();

  /// The latest message (null before the first publish).
  net::awaitable<std::shared_ptr<const std::string>> latest();
  /// Connected clients.
  net::awaitable<std::size_t> clients();

 private:
  void prune();

  Strand strand_;
  std::size_t max_clients_;
  std::vector<std::weak_ptr<WebSocketSession>> sessions_;  // oldest first
  std::shared_ptr<const std::string> latest_;
  // After closeAll() (shutdown) a client finishing its handshake must not join, or it
  // keeps the io_context busy past stop().
  bool closed_ = false;
};

}  // namespace kb::web
