#include "web/server.h"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kb::web {

Server::Server(net::io_context& io, const Router& router, Broadcaster& broadcaster,
               HttpCounters& counters, WebSocketSession::ActionSink on_action, HttpOptions options,
               std::size_t max_http_connections, std::size_t max_http_per_peer)
    : io_(io),
      strand_(net::make_strand(io)),
      acceptor_(strand_),
      context_{router, broadcaster, std::move(on_action), counters, options},
      max_connections_(max_http_connections),
      max_per_peer_(max_http_per_peer) {}

Result<net::ip::tcp::endpoint> Server::listen(const std::string& address, unsigned short port) {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(address, ec);
  if (ec) return fail(Errc::Config, "listen: bad address '" + address + "'");
  net::ip::tcp::endpoint endpoint(addr, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(Errc::Io,
                "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  return acceptor_.local_endpoint();
}

void Server::start() {
  net::co_spawn(strand_, acceptLoop(this), net::detached);
}

net::awaitable<void> Server::acceptLoop(Server* self) {
  boost::system::error_code ec;
  while (self->acceptor_.is_open()) {
    auto socket = co_await self->acceptor_.async_accept(
        net::make_strand(self->io_), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (!self->acceptor_.is_open()) break;
      continue;  // e.g. EMFILE, a connection reset before accept: keep serving
    }
    std::erase_if(self->sessions_, [](const std::weak_ptr<HttpSession>& w) { return w.expired(); });
    boost::system::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec).address();
    // Bounded: a kiosk has one browser and a few tools. A spent budget closes the
    // oldest HTTP connection (per peer first), never the new one.
    auto http = [](const std::shared_ptr<HttpSession>& s) { return s && !s->upgraded(); };
    auto from_peer = [&](const std::shared_ptr<HttpSession>& s) {
      return http(s) && s->peer() == peer;
    };
    auto evict_oldest = [&](const auto& pred) {
      auto it = std::find_if(self->sessions_.begin(), self->sessions_.end(),
                             [&](const std::weak_ptr<HttpSession>& w) { return pred(w.lock()); });
      if (it == self->sessions_.end()) return;
      if (auto s = it->lock()) s->close();
      self->sessions_.erase(it);
    };
    auto count = [&](const auto& pred) {
      return static_cast<std::size_t>(
          std::count_if(self->sessions_.begin(), self->sessions_.end(),
                        [&](const std::weak_ptr<HttpSession>& w) { return pred(w.lock()); }));
    };
    if (count(from_peer) >= self->max_per_peer_)
      evict_oldest(from_peer);
    else if (count(http) >= self->max_connections_)
      evict_oldest(http);
    auto executor = socket.get_executor();  // the connection's own strand
    auto session = std::make_shared<HttpSession>(std::move(socket), self->context_);
    self->sessions_.push_back(session);
    net::co_spawn(executor, HttpSession::run(session), net::detached);
  }
}

void Server::stop() {
  net::post(strand_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& w : sessions_)
      if (auto s = w.lock()) s->close();
    sessions_.clear();
    context_.broadcaster.closeAll();
  });
}

}  // namespace kb::web
