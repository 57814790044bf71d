#include "web/router.h"

namespace kb::web {

void Router::add(http::verb method, std::string path, Handler handler) {
  routes_.push_back({method, std::move(path), false, std::move(handler)});
}

void Router::addPrefix(http::verb method, std::string prefix, Handler handler) {
  routes_.push_back({method, std::move(prefix), true, std::move(handler)});
}

void Router::setFallback(Handler handler) {
  fallback_ = std::move(handler);
}

net::awaitable<Response> Router::route(const Request& req) const {
  std::string_view path = targetPath(req.target());
  bool path_known = false;
  for (const auto& r : routes_) {
    if (r.method == http::verb::unknown) continue;  // catch-alls come after every specific route
    bool match = r.prefix ? path.starts_with(r.path) : path == r.path;
    if (!match) continue;
    path_known = true;
    if (r.method == req.method() ||
        (r.method == http::verb::get && req.method() == http::verb::head))
      co_return co_await r.handler(req);
  }
  if (!path_known) {
    for (const auto& r : routes_) {
      if (r.method != http::verb::unknown) continue;
      if (r.prefix ? path.starts_with(r.path) : path == r.path) co_return co_await r.handler(req);
    }
  }
  if (path_known) {
    auto res = errorResponse(http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                             "method not allowed here");
    co_return res;
  }
  if (fallback_ && (req.method() == http::verb::get || req.method() == http::verb::head))
    co_return co_await fallback_(req);
  co_return errorResponse(http::status::not_found, "NOT_FOUND", "no such route");
}

}  // namespace kb::web
