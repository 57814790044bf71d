#include "console/api.h"

#include <charconv>

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "roster/nik_key.h"

namespace kb::console {
namespace {

namespace http = web::http;
namespace net = boost::asio;

constexpr std::string_view kCardPrefix = "/api/console/card/";
constexpr std::string_view kBirthCheck = "/birth-check";

web::Response json(http::status s, const nlohmann::json& body) {
  return web::jsonResponse(s, body);
}

web::Response refused(http::status s, std::string_view code, std::string_view message) {
  return web::errorResponse(s, code, message);
}

std::string_view queryString(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

// The audit form of a query: a NIK only as its keyed hash (the search's, when
// it ran) and last four digits.
nlohmann::json auditQuery(const SearchQuery& q, const Searcher& s,
                          const std::string& nik_hash = {}) {
  switch (q.kind) {
    case QueryKind::CardNo:
      return {{"card_no", q.card_no}};
    case QueryKind::Nik:
      return {{"nik_hash", nik_hash.empty() ? s.nikHash(q.nik) : nik_hash},
              {"nik_last4", q.nik.substr(12)}};
    case QueryKind::Name: {
      nlohmann::json j = {{"name", q.name}};
      if (!q.kelurahan.empty()) j["kelurahan"] = q.kelurahan;
      if (!q.rt.empty()) j["rt"] = q.rt;
      return j;
    }
  }
  return nlohmann::json::object();
}

web::Response auditDown() {
  return refused(http::status::service_unavailable, "AUDIT_UNAVAILABLE",
                 "the audit log cannot be written, so no data is shown");
}

// Completes with the outcome once audit line `seq` is on disk. The log's sync
// thread reports it; the completion runs on the waiting coroutine's executor,
// which counts as busy meanwhile.
template <class Token>
auto asyncDurable(audit::AuditLog& log, std::uint64_t seq, Token&& token) {
  return net::async_initiate<Token, void(Result<void>)>(
      [&log, seq](auto handler) {
        auto ex = net::prefer(net::get_associated_executor(handler),
                              net::execution::outstanding_work.tracked);
        log.whenDurable(seq, [ex, h = std::move(handler)](Result<void> r) mutable {
          net::post(ex, [h = std::move(h), r = std::move(r)]() mutable { h(std::move(r)); });
        });
      },
      token);
}

}  // namespace

net::awaitable<web::Response> ConsoleApi::handle(const web::Request& req, const Operator& op) {
  Prepared p = prepare(req, op);
  if (p.audit_seq == 0) co_return std::move(p.response);
  auto durable = co_await asyncDurable(audit, p.audit_seq, net::use_awaitable);
  if (durable) co_return std::move(p.response);
  if (log_info) log_info("audit append failed: " + durable.error().message);
  co_return auditDown();
}

ConsoleApi::Prepared ConsoleApi::prepare(const web::Request& req, const Operator& op) {
  Prepared p;
  p.response = respond(req, op, p.audit_seq);
  return p;
}

nlohmann::json ConsoleApi::dataWithSync(const cache::CacheInfo& info) const {
  auto d = dataJson(info);
  if (add_sync) add_sync(d);
  return d;
}

web::Response ConsoleApi::respond(const web::Request& req, const Operator& op,
                                  std::uint64_t& audit_seq) {
  const std::string_view target = req.target();
  const std::string_view path = web::targetPath(target);
  const UnixSeconds t = now();
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return refused(http::status::method_not_allowed, "METHOD", "the console only reads");

  // Writes one audit line (handle() waits until it is on disk before the
  // answer leaves); false if the log refused (the caller answers 503).
  auto record = [&](std::string action, nlohmann::json query,
                    std::vector<std::string> results) -> bool {
    audit::Entry e{op.cn, std::move(action), std::move(query), std::move(results)};
    auto r = audit.appendPending(e, t);
    if (!r && log_info) log_info("audit append failed: " + r.error().message);
    if (r) audit_seq = *r;
    return r.has_value();
  };
  auto audit_down = [] { return auditDown(); };

  if (path == "/healthz") {
    auto info = cache.info(t);
    return json(info.serving ? http::status::ok : http::status::service_unavailable,
                {{"serving", info.serving}, {"data", dataWithSync(info)}});
  }
  if (path == "/api/console/me") {
    return json(http::status::ok, {{"operator", op.cn},
                                   {"supervisor", op.supervisor},
                                   {"data", dataWithSync(cache.info(t))}});
  }
  const bool is_search = path == "/api/console/search";
  const bool is_card = path.starts_with(kCardPrefix);
  const bool is_audit = path == "/api/console/audit";
  if (!is_search && !is_card && !is_audit) {
    if (path.starts_with("/api/"))
      return refused(http::status::not_found, "NOT_FOUND", "no such console endpoint");
    return page.serve(req);
  }

  // Rate limit: every lookup counts, the refusal is audited too.
  if (auto wait = limiter.take(op.cn, RateLimiter::Clock::now())) {
    if (!record("rate_limited", {{"path", std::string(path)}}, {})) return audit_down();
    auto res = refused(http::status::too_many_requests, "RATE_LIMITED",
                       "too many lookups; wait " + std::to_string(*wait) + " s");
    res.set(http::field::retry_after, std::to_string(*wait));
    return res;
  }

  if (is_audit) {
    if (!op.supervisor) {
      if (!record("audit_view_refused", nlohmann::json::object(), {})) return audit_down();
      return refused(http::status::forbidden, "NOT_SUPERVISOR",
                     "the audit view needs a supervisor certificate (OU=supervisor)");
    }
    std::size_t limit = 100;
    if (auto v = web::queryParam(target, "limit"); !v.empty()) {
      std::size_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || n == 0 || n > 1000)
        return refused(http::status::bad_request, "BAD_QUERY", "limit must be 1 to 1000");
      limit = n;
    }
    if (!record("audit_view", {{"limit", limit}}, {})) return audit_down();
    auto lines = audit.tail(limit);
    if (!lines) return audit_down();
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& l : *lines) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      if (!j.is_discarded()) entries.push_back(std::move(j));
    }
    nlohmann::json check;
    auto v = audit::verify(audit_path, audit_key);
    if (v)
      check = {{"ok", true}, {"lines", v->lines}, {"checkpoints", v->checkpoints}};
    else
      check = {{"ok", false}, {"error", v.error().message}};
    return json(http::status::ok, {{"entries", std::move(entries)},
                                   {"verify", std::move(check)},
                                   {"data", dataJson(cache.info(t))}});
  }

  if (is_search) {
    auto q = parseSearchQuery(queryString(target));
    if (!q) {
      if (!record("bad_query", {{"reason", q.error().message}}, {})) return audit_down();
      return refused(http::status::bad_request, "BAD_QUERY", q.error().message);
    }
    auto answer = searcher.search(*q, t);
    if (!answer) {
      if (!record("search_unverifiable", auditQuery(*q, searcher), {})) return audit_down();
      return refused(http::status::service_unavailable, "UNVERIFIABLE", answer.error().message);
    }
    std::vector<std::string> cards;
    for (const auto& r : answer->results) cards.push_back(r.card_no);
    // No journal line per lookup: the audit log is their record, and at call
    // centre rates the journal's per-unit rate limit would start dropping
    // lines, the audit checkpoints among them.
    if (!record("search", auditQuery(*q, searcher, answer->nik_hash), cards)) return audit_down();
    return json(http::status::ok, toJson(*answer));
  }

  // Record view, or the check of a birth date a caller states.
  std::string_view raw = path.substr(kCardPrefix.size());
  const bool birth_check = raw.ends_with(kBirthCheck);
  if (birth_check) raw.remove_suffix(kBirthCheck.size());
  auto card_no = parseCardNo(raw);
  if (!card_no) {
    if (!record("bad_query", {{"reason", card_no.error().message}}, {})) return audit_down();
    return refused(http::status::bad_request, "BAD_QUERY", card_no.error().message);
  }
  auto lang = web::queryParam(target, "lang");
  if (!lang.empty() && lang != "id" && lang != "en")
    return refused(http::status::bad_request, "BAD_QUERY", "lang must be id or en");
  cache.refresh();
  auto verdict = cache.lookup(*card_no, t);
  if (birth_check) {
    // The staff cache holds only a keyed hash of the birth date: the operator
    // types the date the caller says, the node says whether it matches. The
    // audit line names the card and the outcome, never the date.
    const auto date = web::queryParam(target, "date");
    if (!parseDate(date)) {
      if (!record("bad_query", {{"reason", "date must be a real date YYYY-MM-DD"}}, {}))
        return audit_down();
      return refused(http::status::bad_request, "BAD_QUERY", "date must be a real date YYYY-MM-DD");
    }
    if (verdict.verdict == cache::VerdictCode::Unverifiable) {
      if (!record("birth_check_unverifiable", {{"card_no", *card_no}}, {})) return audit_down();
      return refused(http::status::service_unavailable, "UNVERIFIABLE", verdict.reason);
    }
    if (!verdict.card || verdict.card->birth_hash.empty()) {
      if (!record("birth_check", {{"card_no", *card_no}, {"match", nullptr}}, {}))
        return audit_down();
      return refused(http::status::not_found, "NOT_FOUND",
                     verdict.card ? "no birth date on file for this card"
                                  : "no such card in this node's data");
    }
    const auto want = searcher.birthHash(verdict.card->card_no, date);
    const bool match = roster::keyedHashMatches(verdict.card->birth_hash, want);
    if (!record("birth_check", {{"card_no", *card_no}, {"match", match}}, {verdict.card->card_no}))
      return audit_down();
    return json(
        http::status::ok,
        {{"card_no", verdict.card->card_no}, {"match", match}, {"data", dataJson(cache.info(t))}});
  }
  std::vector<std::string> shown;
  if (verdict.card) shown.push_back(verdict.card->card_no);
  if (!record("view", {{"card_no", *card_no}}, shown)) return audit_down();
  if (verdict.verdict == cache::VerdictCode::NotFound)
    return json(http::status::not_found, {{"error", "NOT_FOUND"},
                                          {"message", "no such card in this node's data"},
                                          {"verdict", cache::toJson(verdict)},
                                          {"data", dataJson(cache.info(t))}});
  auto body = cache::toJson(verdict);
  body["script"] = guidance.script(verdict, lang.empty() ? "id" : lang);
  body["data"] = dataJson(cache.info(t));
  return json(http::status::ok, body);
}

}  // namespace kb::console
