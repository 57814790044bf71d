#include "web/websocket_session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "web/broadcaster.h"

namespace kb::web {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

WebSocketSession::WebSocketSession(Stream&& stream, Broadcaster& broadcaster, ActionSink sink,
                                   WebSocketOptions options)
    : ws_(std::move(stream)),
      broadcaster_(broadcaster),
      sink_(std::move(sink)),
      options_(options),
      wake_(ws_.get_executor()) {}

net::awaitable<void> WebSocketSession::run(std::shared_ptr<WebSocketSession> self, Request req) {
  auto& ws = self->ws_;
  beast::get_lowest_layer(ws).expires_never();  // the websocket timeouts take over
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.handshake_timeout = std::chrono::seconds(5);
  timeouts.idle_timeout = self->options_.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(self->options_.message_limit);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "kartu-bahagiad"); }));

  beast::error_code ec;
  co_await ws.async_accept(req, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    self->closed_ = true;
    co_return;
  }
  ws.text(true);
  // Our keep-alive pings are answered with pongs: traffic, but no message.
  ws.control_callback([raw = self.get()](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) {
      raw->message_mark_ = raw->bytesRead();
      raw->pending_since_.reset();
    }
  });
  self->message_mark_ = self->bytesRead();
  net::co_spawn(ws.get_executor(), writeLoop(self), net::detached);
  net::co_spawn(ws.get_executor(), watchdog(self), net::detached);
  self->broadcaster_.subscribe(self);

  beast::flat_buffer buffer;
  while (!self->closed_) {
    co_await ws.async_read(buffer, net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    self->message_mark_ = self->bytesRead();
    self->pending_since_.reset();
    if (ws.got_text()) self->sink_(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
  }
  self->shutdown();
}

net::awaitable<void> WebSocketSession::writeLoop(std::shared_ptr<WebSocketSession> self) {
  beast::error_code ec;
  while (true) {
    while (self->queue_.empty() && !self->closed_) {
      self->wake_.expires_at(net::steady_timer::time_point::max());
      co_await self->wake_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    if (self->closed_) break;
    auto message = self->queue_.front();
    co_await self->ws_.async_write(net::buffer(*message),
                                   net::redirect_error(net::use_awaitable, ec));
    // shutdown() may have run (and emptied the queue) while the write was in flight.
    if (ec || self->closed_) break;
    self->queue_.pop_front();
  }
  self->shutdown();
}

std::uint64_t WebSocketSession::bytesRead() {
  return beast::get_lowest_layer(ws_).rate_policy().bytesRead();
}

// Ends a client that keeps sending without completing a message: an endless run
// of empty continuation frames, or a message dripped in too slowly.
net::awaitable<void> WebSocketSession::watchdog(std::shared_ptr<WebSocketSession> self) {
  net::steady_timer tick(self->ws_.get_executor());
  beast::error_code ec;
  while (!self->closed_) {
    tick.expires_after(std::chrono::milliseconds(100));
    co_await tick.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (self->closed_) break;
    const std::uint64_t pending = self->bytesRead() - self->message_mark_;
    if (pending == 0) continue;
    const auto now = std::chrono::steady_clock::now();
    if (!self->pending_since_) self->pending_since_ = now;
    if (pending > self->options_.assembly_bytes_limit ||
        now - *self->pending_since_ > self->options_.assembly_timeout) {
      self->shutdown();
      break;
    }
  }
}

void WebSocketSession::send(std::shared_ptr<const std::string> message) {
  net::post(ws_.get_executor(), [self = shared_from_this(), message = std::move(message)] {
    if (self->closed_) return;
    if (self->queue_.size() >= self->options_.queue_limit) {
      // A client this far behind shows stale screens; it reconnects and gets the current state.
      self->shutdown();
      return;
    }
    self->queue_.push_back(message);
    self->wake_.cancel();
  });
}

void WebSocketSession::close() {
  net::post(ws_.get_executor(), [self = shared_from_this()] { self->shutdown(); });
}

void WebSocketSession::shutdown() {
  // Runs on the session's strand. Closing the socket ends both loops.
  if (!closed_.exchange(true)) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }
  wake_.cancel();
  queue_.clear();
}

}  // namespace kb::web
