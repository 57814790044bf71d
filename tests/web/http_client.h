#pragma once
// A small synchronous Beast client for the web and daemon tests.
//
// Every request is bounded: a tcp_stream's expiry ends only asynchronous
// operations, so the request runs asynchronously on its own io_context and a
// daemon that never answers makes the call throw (beast::error::timeout)
// instead of hanging the test until ctest kills it.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/system/system_error.hpp>

namespace kb::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
};

// Long enough for any answer on a loaded CI machine; it only catches a hang.
inline constexpr std::chrono::seconds kHttpBound{30};

inline HttpResult httpRequest(unsigned short port, boost::beast::http::verb method,
                              const std::string& target, const std::string& body = {},
                              const std::vector<std::pair<std::string, std::string>>& headers = {},
                              const std::string& host = "127.0.0.1",
                              std::chrono::seconds bound = kHttpBound) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == http::verb::head) parser.skip(true);

  beast::error_code failure;
  stream.expires_after(bound);  // ends whichever operation is pending at the bound
  stream.async_connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port),
      [&](beast::error_code ec) {
        if (ec) return void(failure = ec);
        http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
          if (wec) return void(failure = wec);
          http::async_read(stream, buffer, parser,
                           [&](beast::error_code rec, std::size_t) { failure = rec; });
        });
      });
  io.run();
  if (failure) throw boost::system::system_error(failure, "http " + target);

  auto res = parser.release();
  beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(res.result_int()), res.body(),
          std::string(res[http::field::content_type])};
}

inline HttpResult httpGet(unsigned short port, const std::string& target) {
  return httpRequest(port, boost::beast::http::verb::get, target);
}

// For tests that look for a daemon that stopped answering: the body of a 200,
// or nullopt for anything else, a timeout included.
inline std::optional<std::string> boundedGet(
    unsigned short port, const std::string& target,
    std::chrono::seconds bound = std::chrono::seconds(10)) {
  try {
    auto r = httpRequest(port, boost::beast::http::verb::get, target, {}, {}, "127.0.0.1", bound);
    if (r.status == 200) return std::move(r.body);
  } catch (const boost::system::system_error&) {
  }
  return std::nullopt;
}

}  // namespace kb::testing
