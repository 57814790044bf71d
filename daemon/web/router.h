#pragma once
/// Maps a request to a handler by method and path. Handlers are coroutines so
/// that they can hop to the strand that owns the data they answer from.

#include <functional>
#include <string>
#include <vector>

#include "web/response.h"

namespace kb::web {

class Router {
 public:
  using Handler = std::function<net::awaitable<Response>(const Request&)>;

  /// Exact path (query ignored).
  void add(http::verb method, std::string path, Handler handler);
  /// Every path starting with `prefix`. Method http::verb::unknown: any method, and only
  /// when no specific route knows the path.
  void addPrefix(http::verb method, std::string prefix, Handler handler);
  /// GET/HEAD requests no route claims (static files).
  void setFallback(Handler handler);

  /// 404 for an unknown path, 405 for a known path with another method.
  net::awaitable<Response> route(const Request& req) const;

 private:
  struct Route {
    http::verb method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace kb::web
