#include "web/broadcaster.h"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "web/websocket_session.h"

namespace kb::web {

void Broadcaster::prune() {
  std::erase_if(sessions_, [](const std::weak_ptr<WebSocketSession>& w) {
    auto s = w.lock();
    return !s || s->closed();
  });
}

void Broadcaster::publish(std::shared_ptr<const std::string> message) {
  net::post(strand_, [this, message = std::move(message)] {
    latest_ = message;
    prune();
    for (auto& w : sessions_)
      if (auto s = w.lock()) s->send(latest_);
  });
}

void Broadcaster::subscribe(std::shared_ptr<WebSocketSession> session) {
  net::post(strand_, [this, session = std::move(session)] {
    if (closed_) {
      session->close();
      return;
    }
    prune();
    while (!sessions_.empty() && sessions_.size() >= max_clients_) {
      if (auto oldest = sessions_.front().lock()) oldest->close();
      sessions_.erase(sessions_.begin());
    }
    sessions_.push_back(session);
    if (latest_) session->send(latest_);
  });
}

void Broadcaster::closeAll() {
  net::post(strand_, [this] {
    closed_ = true;
    for (auto& w : sessions_)
      if (auto s = w.lock()) s->close();
    sessions_.clear();
  });
}

net::awaitable<std::shared_ptr<const std::string>> Broadcaster::latest() {
  co_return co_await net::co_spawn(
      strand_,
      [this]() -> net::awaitable<std::shared_ptr<const std::string>> { co_return latest_; },
      net::use_awaitable);
}

net::awaitable<std::size_t> Broadcaster::clients() {
  co_return co_await net::co_spawn(
      strand_,
      [this]() -> net::awaitable<std::size_t> {
        prune();
        co_return sessions_.size();
      },
      net::use_awaitable);
}

}  // namespace kb::web
