#pragma once
// A GET that gives up: nullopt when the daemon has not answered within `bound`.
// The shared test client (tests/web/http_client.h) blocks until the daemon
// answers (a tcp_stream's expiry bounds only asynchronous operations), so a
// daemon whose strand is stuck would hang a test instead of failing it; the
// tests that look for exactly that use this one.

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kb::sync::testing {

inline std::optional<std::string> boundedGet(
    unsigned short port, const std::string& target,
    std::chrono::seconds bound = std::chrono::seconds(10)) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  bool answered = false;
  stream.expires_after(bound);  // ends whichever operation is pending at the bound
  stream.async_connect(
      tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
        if (ec) return;
        http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
          if (wec) return;
          http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
            answered = !rec && res.result() == http::status::ok;
          });
        });
      });
  io.run();
  if (!answered) return std::nullopt;
  return res.body();
}

}  // namespace kb::sync::testing
