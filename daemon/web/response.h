#pragma once
/// HTTP request/response types shared by the web pieces, and small builders.

#include <string>
#include <string_view>
#include <utility>  // boost/asio/awaitable.hpp (1.74) uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace kb::web {

namespace net = boost::asio;
namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// A response with the headers every answer of ours carries (nosniff, no caching of API data).
Response makeResponse(http::status status, std::string_view content_type, std::string body);
Response jsonResponse(http::status status, const nlohmann::json& body);
/// {"error": code, "message": text}
Response errorResponse(http::status status, std::string_view code, std::string_view message);

/// The path part of a request target (before '?').
std::string_view targetPath(std::string_view target);
/// The value of `name` in the query string, percent-decoding not needed for our keys.
std::string queryParam(std::string_view target, std::string_view name);

/// True for Host/Origin values naming this machine's loopback (127.0.0.0/8, localhost, [::1]).
bool isLoopbackHost(std::string_view host_and_port);
bool isLoopbackOrigin(std::string_view origin);

}  // namespace kb::web
