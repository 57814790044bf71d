#include "web/response.h"

#include "common/address.h"

namespace kb::web {

Response makeResponse(http::status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(http::field::server, "kartu-bahagiad");
  res.set(http::field::content_type, content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response jsonResponse(http::status status, const nlohmann::json& body) {
  return makeResponse(status, "application/json",
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response errorResponse(http::status status, std::string_view code, std::string_view message) {
  return jsonResponse(status, {{"error", code}, {"message", message}});
}

std::string_view targetPath(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string queryParam(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

namespace {
std::string_view hostOnly(std::string_view host_and_port) {
  if (host_and_port.starts_with('[')) {
    auto close = host_and_port.find(']');
    return close == std::string_view::npos ? std::string_view()
                                           : host_and_port.substr(0, close + 1);
  }
  return host_and_port.substr(0, host_and_port.find(':'));
}
}  // namespace

bool isLoopbackHost(std::string_view host_and_port) {
  return isLoopbackAddress(hostOnly(host_and_port));
}

bool isLoopbackOrigin(std::string_view origin) {
  if (origin.starts_with("http://"))
    origin.remove_prefix(7);
  else
    return false;
  if (origin.find('/') != std::string_view::npos) return false;
  return isLoopbackHost(origin);
}

}  // namespace kb::web
