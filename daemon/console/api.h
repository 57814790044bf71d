#pragma once
/// The console's HTTP API and page (docs/contracts.md, "Staff console"):
///   GET /api/console/me                       who is calling, data age
///   GET /api/console/search?card_no=|nik=|name=[&kelurahan=][&rt=]
///   GET /api/console/card/CARD_NO[?lang=id|en] verdict document + guidance script
///   GET /api/console/card/CARD_NO/birth-check?date=YYYY-MM-DD
///                                              does the date a caller states match?
///   GET /api/console/audit[?limit=N]           supervisors only: newest audit lines
///   GET /healthz, and the page itself from UI_DIR/console/.
/// Every search, record view and audit view, and every refusal of one (bad
/// query, rate limit, not a supervisor), is appended to the audit log before
/// the answer leaves; if that fails the answer is 503 and carries no data.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>  // boost/asio/awaitable.hpp (1.74) needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "cache/cache.h"
#include "console/guidance.h"
#include "console/rate_limit.h"
#include "console/search.h"
#include "console/tls_server.h"
#include "web/static_files.h"

namespace kb::console {

struct ConsoleApi {
  cache::Cache& cache;
  Searcher& searcher;
  audit::AuditLog& audit;
  RateLimiter& limiter;
  const Guidance& guidance;
  const web::StaticFiles& page;
  std::optional<crypto::PublicKey> audit_key;  ///< to verify the log in the audit view
  std::filesystem::path audit_path;
  std::function<void(std::string_view)> log_info;  ///< no personal data ever passes here
  /// Adds the sync's fields to /healthz's and /api/console/me's `data` (a node
  /// with mirror lines); empty: none.
  std::function<void(nlohmann::json&)> add_sync;
  std::function<UnixSeconds()> now = nowSeconds;

  /// The answer, with its audit line written but maybe not yet on disk.
  struct Prepared {
    web::Response response;
    std::uint64_t audit_seq = 0;  ///< the line to wait for; 0: none was written
  };
  Prepared prepare(const web::Request& req, const Operator& op);
  /// prepare(), then waits until its audit line is on disk (the coroutine is
  /// suspended meanwhile, the thread serves other requests): the answer, or
  /// 503 AUDIT_UNAVAILABLE without data when the line cannot be made durable.
  boost::asio::awaitable<web::Response> handle(const web::Request& req, const Operator& op);

 private:
  nlohmann::json dataWithSync(const cache::CacheInfo& info) const;
  web::Response respond(const web::Request& req, const Operator& op, std::uint64_t& audit_seq);
};

}  // namespace kb::console
