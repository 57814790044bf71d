#include "web/kiosk_routes.h"

#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "schema/schema.h"
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
  // The web layer's own families, in the kiosk service's registry (written in one place).
  auto& registry = api.kiosk.registry();
  registry.declare("kb_ws_clients", metrics::Type::Gauge, "Connected WebSocket clients.");
  registry.declare("kb_http_requests_total", metrics::Type::Counter,
                   "HTTP requests answered, by status class.");
  registry.set("kb_ws_clients", static_cast<std::int64_t>(co_await api.broadcaster.clients()));
  for (unsigned c = 1; c <= 5; ++c)
    registry.set("kb_http_requests_total",
                 static_cast<std::int64_t>(api.counters.by_class[c].load()),
                 {{"code", std::to_string(c) + "xx"}});
  std::string text = co_await api.kiosk.metrics();
  co_return makeResponse(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                         std::move(text));
}

Response qr(const KioskApi& api, const Request& req) {
  // /api/qr/JKK.svg?lang=id -> <public_guidance_url>/jkk?lang=id: public content, nothing personal.
  std::string_view path = targetPath(req.target());
  path.remove_prefix(std::string_view("/api/qr/").size());
  if (!path.ends_with(".svg") || !schema::isGuidanceProgram(path.substr(0, path.size() - 4)))
    return errorResponse(http::status::not_found, "NOT_FOUND",
                         "programme must be " + schema::listText(schema::kGuidancePrograms));
  std::string lang = queryParam(req.target(), "lang");
  if (lang.empty()) lang = "id";
  if (lang != "id" && lang != "en")
    return errorResponse(http::status::bad_request, "MALFORMED", "lang must be id or en");
  std::string program(path.substr(0, path.size() - 4));
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

// Runs the synthesis on `pool` and completes on the caller's executor. A plain
// callback, not a coroutine, crosses the threads: Asio 1.74 recycles coroutine frames
// per thread and must not free one on a thread other than the one that made it.
template <class Token>
auto asyncSynthesize(net::thread_pool& pool, std::string text, std::string lang,
                     speech::SpeechOptions options, Token&& token) {
  return net::async_initiate<Token, void(Result<std::string>)>(
      [&pool](auto handler, std::string t, std::string l, speech::SpeechOptions o) {
        auto ex = net::get_associated_executor(handler);
        net::post(pool, [handler = std::move(handler), ex, t = std::move(t), l = std::move(l),
                         o = std::move(o)]() mutable {
          auto result = speech::synthesize(t, l, o);
          net::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      token, std::move(text), std::move(lang), std::move(options));
}

// POST /api/speech {"lang": "id"|"en", "text": "..."} -> audio/wav. The page sends one
// section of what the screen shows at a time; espeak-ng runs on its own thread (one at
// a time), so a slow synthesis never holds up the kiosk's state or other requests.
net::awaitable<Response> speak(const KioskApi& api, net::thread_pool& pool, const Request& req) {
  auto body = nlohmann::json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("text") ||
      !body["text"].is_string() || !body.contains("lang") || !body["lang"].is_string())
    co_return errorResponse(http::status::bad_request, "MALFORMED",
                            "expected {\"lang\": \"id\"|\"en\", \"text\": \"...\"}");
  auto wav =
      co_await asyncSynthesize(pool, body["text"].get<std::string>(),
                               body["lang"].get<std::string>(), api.speech, net::use_awaitable);
  if (!wav) {
    auto status = wav.error().code == Errc::Malformed || wav.error().code == Errc::TooLarge
                      ? http::status::bad_request
                      : http::status::service_unavailable;
    co_return errorResponse(status, codeName(wav.error().code), wav.error().message);
  }
  co_return makeResponse(http::status::ok, "audio/wav", std::move(*wav));
}

// Prints on `pool`, completes on the caller's executor (as asyncSynthesize does).
template <class Token>
auto asyncPrint(net::thread_pool& pool, printer::Slip slip, printer::PrinterOptions options,
                Token&& token) {
  return net::async_initiate<Token, void(std::expected<void, printer::PrintFailure>)>(
      [&pool](auto handler, printer::Slip s, printer::PrinterOptions o) {
        auto ex = net::get_associated_executor(handler);
        net::post(
            pool, [handler = std::move(handler), ex, s = std::move(s), o = std::move(o)]() mutable {
              auto result = printer::printSlip(s, o);
              net::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
                std::move(handler)(std::move(result));
              });
            });
      },
      token, std::move(slip), std::move(options));
}

// A list of short strings from the page (what the screen shows), bounded.
std::optional<std::vector<std::string>> lines(const nlohmann::json& v, std::size_t max_items) {
  if (!v.is_array() || v.size() > max_items) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string() || x.get_ref<const std::string&>().size() > 600) return std::nullopt;
    out.push_back(x.get<std::string>());
  }
  return out;
}

// POST /api/print {"lang","program","title","summary":[...],"steps":[...],"data_as_of"}:
// the slip of the screen being shown. The name comes from the kiosk's own state (masked
// on kiosks), never from the request; the QR holds the public page only. Answered once
// the printer has taken the slip, or with why not (503 PAPER_OUT / UNPLUGGED / SLOW):
// printing runs on its own thread, so the kiosk never waits for the printer.
net::awaitable<Response> print(const KioskApi& api, net::thread_pool& pool, const Request& req) {
  if (api.printer.device.empty())
    co_return errorResponse(http::status::not_found, "NO_PRINTER", "no printer is configured");
  auto body = nlohmann::json::parse(req.body(), nullptr, false);
  const std::string lang = body.is_object() ? body.value("lang", "") : "";
  const std::string program = body.is_object() ? body.value("program", "") : "";
  auto summary =
      body.is_object() ? lines(body.value("summary", nlohmann::json::array()), 8) : std::nullopt;
  auto steps =
      body.is_object() ? lines(body.value("steps", nlohmann::json::array()), 20) : std::nullopt;
  if ((lang != "id" && lang != "en") || !schema::isGuidanceProgram(program) || !summary || !steps ||
      !body["title"].is_string() || !body.value("data_as_of", nlohmann::json()).is_string())
    co_return errorResponse(http::status::bad_request, "MALFORMED",
                            "expected {lang, program, title, summary[], steps[], data_as_of}");
  auto latest = co_await api.broadcaster.latest();
  auto state = latest ? nlohmann::json::parse(*latest, nullptr, false) : nlohmann::json();
  if (!state.is_object() || !state["tap"].is_object())
    co_return errorResponse(http::status::conflict, "NO_TAP", "no card is shown");
  printer::Slip slip;
  slip.title = body["title"].get<std::string>();
  slip.holder = state["tap"].value("card", nlohmann::json::object()).value("holder", "");
  slip.summary = std::move(*summary);
  slip.steps = std::move(*steps);
  slip.footer = {lang == "id" ? "Call Center Bahagia 112 (ambulans 119)"
                              : "Call Center Bahagia 112 (ambulance 119)",
                 body["data_as_of"].get<std::string>()};
  std::string page = program;
  for (char& c : page) c = static_cast<char>(c - 'A' + 'a');
  slip.qr = api.public_guidance_url + "/" + page + "?lang=" + lang;
  slip.qr_caption = lang == "id" ? "Pindai untuk membuka panduan ini di ponsel."
                                 : "Scan to open this guidance on your phone.";
  auto done = co_await asyncPrint(pool, std::move(slip), api.printer, net::use_awaitable);
  if (!done) {
    std::string code(printer::printErrorName(done.error().kind));
    for (char& c : code) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    co_return errorResponse(http::status::service_unavailable, code, done.error().message);
  }
  co_return jsonResponse(http::status::ok, {{"ok", true}});
}

}  // namespace

void addManagementRoutes(Router& router, const KioskApi& api) {
  const KioskApi* a = &api;
  router.add(http::verb::get, "/healthz", [a](const Request&) { return health(*a); });
  router.add(http::verb::get, "/metrics", [a](const Request&) { return metrics(*a); });
}

void addKioskRoutes(Router& router, const KioskApi& api) {
  const KioskApi* a = &api;
  router.add(http::verb::get, "/api/state", [a](const Request&) { return state(*a); });
  // The domain's closed lists (programmes, categories, statuses) for the UI.
  router.add(http::verb::get, "/api/schema", [](const Request&) -> net::awaitable<Response> {
    co_return jsonResponse(http::status::ok, schema::toJson());
  });
  router.add(http::verb::get, "/healthz", [a](const Request&) { return health(*a); });
  router.add(http::verb::get, "/metrics", [a](const Request&) { return metrics(*a); });
  router.addPrefix(http::verb::get, "/api/qr/",
                   [a](const Request& req) -> net::awaitable<Response> { co_return qr(*a, req); });
  auto speech_pool = std::make_shared<net::thread_pool>(1);
  router.add(http::verb::post, "/api/speech",
             [a, speech_pool](const Request& req) { return speak(*a, *speech_pool, req); });
  auto print_pool = std::make_shared<net::thread_pool>(1);
  router.add(http::verb::get, "/api/printer", [a](const Request&) -> net::awaitable<Response> {
    co_return jsonResponse(http::status::ok, {{"configured", !a->printer.device.empty()}});
  });
  router.add(http::verb::post, "/api/print",
             [a, print_pool](const Request& req) { return print(*a, *print_pool, req); });
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
