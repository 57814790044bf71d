#include "web/kiosk_routes.h"

#include <memory>

#include "web/qr.h"
#include "web/static_files.h"

namespace kb::web {

namespace {

net::awaitable<Response> state(const KioskApi& api) {
  auto latest = co_await api.broadcaster.latest();
  if (!latest)
    co_return errorResponse(http::status::service_unavailable, "STARTING", "no state yet");
  co_return makeResponse(http::status::ok, "application/json", *latest);
}

net::awaitable<Response> health(const KioskApi& api) {
  auto h = co_await api.kiosk.health();
  co_return jsonResponse(h.ok ? http::status::ok : http::status::service_unavailable, h.body);
}

net::awaitable<Response> metrics(const KioskApi& api) {
  std::string text = co_await api.kiosk.metrics();
  auto clients = co_await api.broadcaster.clients();
  text += "# HELP kb_ws_clients Connected WebSocket clients.\n# TYPE kb_ws_clients gauge\n";
  text += "kb_ws_clients " + std::to_string(clients) + "\n";
  text +=
      "# HELP kb_http_requests_total HTTP requests answered, by status class.\n# TYPE "
      "kb_http_requests_total counter\n";
  for (unsigned c = 1; c <= 5; ++c)
    text += "kb_http_requests_total{code=\"" + std::to_string(c) + "xx\"} " +
            std::to_string(api.counters.by_class[c].load()) + "\n";
  co_return makeResponse(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                         std::move(text));
}

Response qr(const KioskApi& api, const Request& req) {
  // /api/qr/JKK.svg?lang=id -> <public_guidance_url>/jkk?lang=id: public content, nothing personal.
  std::string_view path = targetPath(req.target());
  path.remove_prefix(std::string_view("/api/qr/").size());
  if (path != "JKK.svg" && path != "JKM.svg" && path != "JKN.svg")
    return errorResponse(http::status::not_found, "NOT_FOUND", "programme must be JKK, JKM or JKN");
  std::string lang = queryParam(req.target(), "lang");
  if (lang.empty()) lang = "id";
  if (lang != "id" && lang != "en")
    return errorResponse(http::status::bad_request, "MALFORMED", "lang must be id or en");
  std::string program(path.substr(0, 3));
  for (char& c : program) c = static_cast<char>(c - 'A' + 'a');
  auto svg = qrSvg(api.public_guidance_url + "/" + program + "?lang=" + lang);
  if (!svg)
    return errorResponse(http::status::internal_server_error, "INTERNAL", svg.error().message);
  auto res = makeResponse(http::status::ok, "image/svg+xml", std::move(*svg));
  res.set(http::field::cache_control, "max-age=3600");
  return res;
}

Response demoTap(const KioskApi& api, const Request& req) {
  auto body = nlohmann::json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("card_no") ||
      !body["card_no"].is_string())
    return errorResponse(http::status::bad_request, "MALFORMED",
                         "expected {\"card_no\": \"...\", \"uid\"?: \"hex\"}");
  std::optional<std::string> uid;
  if (body.contains("uid") && !body["uid"].is_null()) {
    if (!body["uid"].is_string())
      return errorResponse(http::status::bad_request, "MALFORMED", "uid must be hex text");
    uid = body["uid"].get<std::string>();
  }
  auto r = api.demo->tap(body["card_no"].get<std::string>(), uid);
  if (!r) {
    auto status =
        r.error().code == Errc::NotFound ? http::status::not_found : http::status::bad_request;
    return errorResponse(status, codeName(r.error().code), r.error().message);
  }
  return jsonResponse(http::status::ok, {{"ok", true}});
}

}  // namespace

void addKioskRoutes(Router& router, const KioskApi& api) {
  const KioskApi* a = &api;
  router.add(http::verb::get, "/api/state", [a](const Request&) { return state(*a); });
  router.add(http::verb::get, "/healthz", [a](const Request&) { return health(*a); });
  router.add(http::verb::get, "/metrics", [a](const Request&) { return metrics(*a); });
  router.addPrefix(http::verb::get, "/api/qr/",
                   [a](const Request& req) -> net::awaitable<Response> { co_return qr(*a, req); });
  if (api.demo) {
    router.add(http::verb::get, "/api/demo/cards", [a](const Request&) -> net::awaitable<Response> {
      co_return jsonResponse(http::status::ok, a->demo->cards());
    });
    router.add(http::verb::post, "/api/demo/tap",
               [a](const Request& req) -> net::awaitable<Response> { co_return demoTap(*a, req); });
    router.add(http::verb::post, "/api/demo/remove",
               [a](const Request&) -> net::awaitable<Response> {
                 a->demo->remove();
                 co_return jsonResponse(http::status::ok, {{"ok", true}});
               });
  }
  // Any other /api path is an unknown route, never a file.
  router.addPrefix(http::verb::unknown, "/api/", [](const Request&) -> net::awaitable<Response> {
    co_return errorResponse(http::status::not_found, "NOT_FOUND", "no such route");
  });
  auto files = std::make_shared<StaticFiles>(api.ui_dir);
  router.setFallback(
      [files](const Request& req) -> net::awaitable<Response> { co_return files->serve(req); });
}

}  // namespace kb::web
