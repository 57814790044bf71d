#pragma once
// A small synchronous Beast client for the web and daemon tests.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kb::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
};

inline HttpResult httpRequest(unsigned short port, boost::beast::http::verb method,
                              const std::string& target, const std::string& body = {},
                              const std::vector<std::pair<std::string, std::string>>& headers = {},
                              const std::string& host = "127.0.0.1") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == http::verb::head) parser.skip(true);
  http::read(stream, buffer, parser);
  auto res = parser.release();
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body(),
          std::string(res[http::field::content_type])};
}

inline HttpResult httpGet(unsigned short port, const std::string& target) {
  return httpRequest(port, boost::beast::http::verb::get, target);
}

}  // namespace kb::testing
