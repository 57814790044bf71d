#include "web/http_session.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace kb::web {

namespace beast = boost::beast;

HttpSession::HttpSession(net::ip::tcp::socket&& socket, const HttpContext& context)
    : stream_(std::move(socket)), executor_(stream_.get_executor()), context_(context) {
  beast::error_code ec;
  peer_ = stream_.socket().remote_endpoint(ec).address();
}

net::awaitable<void> HttpSession::run(std::shared_ptr<HttpSession> self) {
  co_await self->loop();
}

void HttpSession::close() {
  net::post(executor_, [self = shared_from_this()] {
    if (self->upgraded_) return;  // the WebSocket session owns the socket now
    beast::error_code ec;
    self->stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    self->stream_.close();
  });
}

namespace {
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<Response> HttpSession::reject(const Request& req) const {
  // Exactly one Host: with two, a proxy and we could each read a different one.
  if (req.count(http::field::host) != 1)
    return errorResponse(http::status::bad_request, "BAD_HOST", "exactly one Host header");
  // The management listener is reached by name or address over the network; it has
  // GET /metrics and /healthz only (its router), so there is nothing to drive or read.
  if (context_.options.management) return std::nullopt;
  // DNS rebinding and cross-site requests: a page from elsewhere must not read
  // or drive the kiosk, so Host must be loopback, and Origin (when a browser sends
  // one) must be this very origin: another loopback port is another site.
  const auto host = req[http::field::host];
  if (!isLoopbackHost(host))
    return errorResponse(http::status::misdirected_request, "BAD_HOST", "host must be loopback");
  if (req.count(http::field::origin) > 1)
    return errorResponse(http::status::forbidden, "BAD_ORIGIN", "more than one Origin header");
  auto origin = req.find(http::field::origin);
  if (origin != req.end() && (!isLoopbackOrigin(origin->value()) ||
                              !equalsIgnoreCase(origin->value(), "http://" + std::string(host))))
    return errorResponse(http::status::forbidden, "BAD_ORIGIN",
                         "origin must be this kiosk's own origin");
  // Our POST bodies are JSON; a form or text/plain body (which a page elsewhere
  // may send without asking) is refused.
  if (req.method() == http::verb::post && !req.body().empty()) {
    std::string_view type = req[http::field::content_type];
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (!equalsIgnoreCase(type, "application/json"))
      return errorResponse(http::status::unsupported_media_type, "UNSUPPORTED_MEDIA_TYPE",
                           "POST bodies must be application/json");
  }
  return std::nullopt;
}

net::awaitable<void> HttpSession::loop() {
  const auto& opt = context_.options;
  beast::flat_buffer buffer(opt.header_limit + 4096);
  beast::error_code ec;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(opt.header_limit);
    parser.body_limit(opt.body_limit);
    stream_.expires_after(opt.read_timeout);
    co_await http::async_read(stream_, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    Response res;
    bool keep_alive = false;
    bool unread_input = false;  // a refused request whose rest we never read
    bool head = false;
    if (ec == http::error::body_limit) {
      unread_input = true;
      res = errorResponse(http::status::payload_too_large, "TOO_LARGE", "request body too large");
    } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      unread_input = true;
      res = errorResponse(http::status::request_header_fields_too_large, "TOO_LARGE",
                          "request header too large");
    } else if (ec) {
      break;  // timeout, reset, end of stream or a malformed request: nothing worth answering
    } else {
      Request req = parser.release();
      keep_alive = req.keep_alive();
      head = req.method() == http::verb::head;
      if (auto rejected = reject(req)) {
        res = std::move(*rejected);
      } else if (beast::websocket::is_upgrade(req)) {
        if (opt.management || targetPath(req.target()) != "/api/ws") {
          res = errorResponse(http::status::not_found, "NOT_FOUND", "no WebSocket here");
        } else {
          context_.counters.count(101);
          upgraded_ = true;
          auto ws = std::make_shared<WebSocketSession>(std::move(stream_), context_.broadcaster,
                                                       context_.on_action, opt.websocket);
          co_await WebSocketSession::run(std::move(ws), std::move(req));
          co_return;
        }
      } else {
        res = co_await context_.router.route(req);
      }
    }
    if (head && !res.body().empty()) {
      // A HEAD answer sent with a body would be read as the start of the next response.
      const auto size = res.body().size();
      res.body().clear();
      res.content_length(size);
    }
    context_.counters.count(res.result_int());
    res.keep_alive(keep_alive);
    stream_.expires_after(opt.read_timeout);
    co_await http::async_write(stream_, res, net::redirect_error(net::use_awaitable, ec));
    if (!ec && unread_input) {
      // Closing with unread input makes the kernel send RST, which can destroy the
      // answer in flight; shut down our side, then discard input briefly first.
      stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
      std::array<char, 4096> sink;
      std::size_t drained = 0;
      stream_.expires_after(std::chrono::milliseconds(500));
      while (drained < 256 * 1024) {
        auto n = co_await stream_.async_read_some(net::buffer(sink),
                                                  net::redirect_error(net::use_awaitable, ec));
        if (ec) break;
        drained += n;
      }
      break;
    }
    if (ec || !keep_alive) break;
  }
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace kb::web
