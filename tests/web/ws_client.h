#pragma once
// A WebSocket test client whose reads are bounded (async reads under run_for),
// so a missing message fails a test instead of hanging it.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace kb::testing {

class WsClient {
 public:
  /// Throws boost::system::system_error if the handshake is refused.
  void connect(unsigned short port, const std::string& origin = "") {
    namespace beast = boost::beast;
    beast::get_lowest_layer(ws_).connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    if (!origin.empty()) {
      ws_.set_option(
          beast::websocket::stream_base::decorator([origin](beast::websocket::request_type& req) {
            req.set(beast::http::field::origin, origin);
          }));
    }
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/api/ws");
  }

  std::optional<std::string> readText(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    boost::beast::flat_buffer buffer;
    bool done = false;
    boost::beast::error_code ec;
    ws_.async_read(buffer, [&](boost::beast::error_code e, std::size_t) {
      done = true;
      ec = e;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!done) {
      boost::beast::get_lowest_layer(ws_).cancel();
      io_.restart();
      io_.run_for(std::chrono::seconds(1));
      return std::nullopt;
    }
    if (ec) return std::nullopt;
    return boost::beast::buffers_to_string(buffer.data());
  }

  /// Reads states until `pred` holds (or a read times out).
  std::optional<nlohmann::json> readUntil(
      const std::function<bool(const nlohmann::json&)>& pred,
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    for (int i = 0; i < 100; ++i) {
      auto text = readText(timeout);
      if (!text) return std::nullopt;
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (!j.is_discarded() && pred(j)) return j;
    }
    return std::nullopt;
  }

  void send(const std::string& text) { ws_.write(boost::asio::buffer(text)); }

  boost::beast::websocket::stream<boost::beast::tcp_stream>& stream() { return ws_; }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{io_};
};

}  // namespace kb::testing
