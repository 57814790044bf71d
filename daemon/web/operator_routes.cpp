#include "web/operator_routes.h"

#include <memory>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/files.h"

namespace kb::web {
namespace {

// scrypt on `pool`, completing on the caller's executor (a plain callback crosses the
// threads, as asyncSynthesize in kiosk_routes.cpp explains).
template <class Token>
auto asyncLogin(net::thread_pool& pool, OperatorGate& gate, std::string pin, Token&& token) {
  return net::async_initiate<Token, void(OperatorGate::Attempt)>(
      [&pool, &gate](auto handler, std::string p) {
        auto ex = net::get_associated_executor(handler);
        net::post(pool, [handler = std::move(handler), ex, &gate, p = std::move(p)]() mutable {
          auto result = gate.login(p, OperatorGate::Clock::now());
          net::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      token, std::move(pin));
}

std::optional<std::string> field(const Request& req, const char* name) {
  auto body = nlohmann::json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains(name) || !body[name].is_string() ||
      body[name].get_ref<const std::string&>().size() > 128)
    return std::nullopt;
  return body[name].get<std::string>();
}

Response notConfigured() {
  return errorResponse(http::status::not_found, "NO_OPERATOR",
                       "no operator PIN is configured (operator_pin_hash)");
}

net::awaitable<Response> login(const OperatorApi& api, net::thread_pool& pool, const Request& req) {
  if (!api.gate.configured()) co_return notConfigured();
  auto pin = field(req, "pin");
  if (!pin) co_return errorResponse(http::status::bad_request, "MALFORMED", "expected {\"pin\"}");
  auto a = co_await asyncLogin(pool, api.gate, std::move(*pin), net::use_awaitable);
  switch (a.outcome) {
    case OperatorGate::Outcome::Ok:
      co_return jsonResponse(
          http::status::ok,
          {{"token", a.token}, {"session_seconds", api.gate.options().session.count()}});
    case OperatorGate::Outcome::LockedOut: {
      auto res = jsonResponse(http::status::too_many_requests,
                              {{"error", "LOCKED_OUT"},
                               {"message", "too many wrong PINs: wait before trying again"},
                               {"retry_after_seconds", a.retry_after_s}});
      res.set(http::field::retry_after, std::to_string(a.retry_after_s));
      co_return res;
    }
    case OperatorGate::Outcome::Wrong:
      break;
  }
  co_return jsonResponse(
      http::status::unauthorized,
      {{"error", "WRONG_PIN"}, {"message", "wrong PIN"}, {"attempts_left", a.attempts_left}});
}

std::optional<Response> refuse(const OperatorApi& api, const Request& req) {
  if (!api.gate.configured()) return notConfigured();
  auto token = field(req, "token");
  if (!token || !api.gate.check(*token, OperatorGate::Clock::now()))
    return errorResponse(http::status::unauthorized, "NO_SESSION",
                         "no operator session (it ended or never began)");
  return std::nullopt;
}

net::awaitable<Response> status(const OperatorApi& api, const Request& req) {
  if (auto r = refuse(api, req)) co_return std::move(*r);
  auto latest = co_await api.broadcaster.latest();
  auto state = latest ? nlohmann::json::parse(*latest, nullptr, false) : nlohmann::json();
  if (!state.is_object()) state = nlohmann::json::object();
  nlohmann::json out = {{"reader", state.value("reader", nlohmann::json())},
                        {"data", state.value("data", nlohmann::json())},
                        {"screen", state.value("screen", nlohmann::json())},
                        {"dev", state.value("dev", false)},
                        {"sync_configured", static_cast<bool>(api.sync_now)}};
  std::error_code ec;
  auto space = std::filesystem::space(api.state_dir, ec);
  out["disk"] =
      ec ? nlohmann::json()
         : nlohmann::json{{"free_bytes", space.available}, {"total_bytes", space.capacity}};
  nlohmann::json usb;
  if (auto text = readFile(api.usb_result, 64 * 1024)) {
    usb = nlohmann::json::parse(*text, nullptr, false);
    if (usb.is_discarded() || !usb.is_object()) usb = nlohmann::json();
  }
  out["usb_import"] = usb;
  const auto req_token = field(req, "token");
  out["session_left_seconds"] =
      api.gate.sessionLeft(req_token.value_or(""), OperatorGate::Clock::now());
  co_return jsonResponse(http::status::ok, out);
}

Response syncNow(const OperatorApi& api, const Request& req) {
  if (auto r = refuse(api, req)) return std::move(*r);
  if (!api.sync_now)
    return errorResponse(http::status::conflict, "NO_MIRROR", "no mirror is configured");
  api.sync_now();  // only wakes the sync thread: never waits for the sync
  return jsonResponse(http::status::accepted, {{"requested", true}});
}

}  // namespace

void addOperatorRoutes(Router& router, const OperatorApi& api) {
  const OperatorApi* a = &api;
  auto pool = std::make_shared<net::thread_pool>(1);  // one PIN check at a time
  router.add(http::verb::post, "/api/operator/login",
             [a, pool](const Request& req) { return login(*a, *pool, req); });
  router.add(http::verb::post, "/api/operator/status",
             [a](const Request& req) { return status(*a, req); });
  router.add(http::verb::post, "/api/operator/sync",
             [a](const Request& req) -> net::awaitable<Response> { co_return syncNow(*a, req); });
  router.add(http::verb::post, "/api/operator/logout",
             [a](const Request& req) -> net::awaitable<Response> {
               if (!a->gate.configured()) co_return notConfigured();
               if (auto token = field(req, "token")) a->gate.logout(*token);
               co_return jsonResponse(http::status::ok, {{"ok", true}});
             });
}

}  // namespace kb::web
