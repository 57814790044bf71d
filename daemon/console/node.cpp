#include "console/node.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "audit/audit_log.h"
#include "cache/cache.h"
#include "cache/freshness.h"
#include "cache/trust_state.h"
#include "console/api.h"
#include "console/guidance.h"
#include "console/rate_limit.h"
#include "console/search.h"
#include "console/tls_server.h"
#include "roster/nik_key.h"
#include "sync/sync.h"
#include "sync/worker.h"
#include "trust/trust.h"
#include "web/static_files.h"

namespace kb::console {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {
int failStart(const Error& e) {
  std::fprintf(stderr, "%s\n", formatError(e).c_str());
  return 1;
}
}  // namespace

int runNode(const config::Config& cfg, trust::TrustRoot trust_root, const NodeLog& log) {
  const UnixSeconds now = nowSeconds();
  const std::optional<trust::TrustRoot> root(std::move(trust_root));
  auto nik_key = roster::readNikKey(cfg.nik_key);
  if (!nik_key)
    return failStart(Error{nik_key.error().code, "nik_key: " + nik_key.error().message});

  const fs::path state(cfg.state_dir);
  const fs::path key_path =
      cfg.audit_key.empty() ? state / "audit-node.key" : fs::path(cfg.audit_key);
  auto node_key = audit::loadOrCreateNodeKey(key_path);
  if (!node_key)
    return failStart(Error{node_key.error().code, "audit key: " + node_key.error().message});
  audit::LogOptions lo;
  lo.checkpoint_every = static_cast<std::uint32_t>(cfg.audit_checkpoint_every);
  lo.journal = [&log](std::string_view m) { log.info("audit", m); };
  const fs::path audit_path = state / "audit.log";
  auto audit_log = audit::AuditLog::open(audit_path, *node_key, lo);
  if (!audit_log) return failStart(Error{audit_log.error().code, audit_log.error().message});
  // Every start puts the head of the chain into the journal.
  if ((*audit_log)->lastSeq() > 0)
    if (auto c = (*audit_log)->checkpoint(now); !c) return failStart(c.error());

  cache::CacheOptions co;
  co.freshness = cache::freshnessPolicy(cfg.soft_age_hours, cfg.grace_days);
  co.profile = roster::Profile::Staff;
  // Never served below what this node accepted; the root must chain from the pinned one.
  co.trust_state = cache::trustStatePath(cfg.dbPath());
  co.raise_trust_state = true;
  co.root_chain_dir = fs::path(cfg.root).parent_path();
  // A node with mirror lines syncs the staff data as a kiosk syncs its own,
  // and serves with the newest root it walked to before (kept in state_dir).
  trust::TrustRoot serving_root = *root;
  if (!cfg.mirrors.empty()) {
    serving_root = sync::newestLocalRoot(*root, state, now);
    if (serving_root.version() > root->version()) co.root_chain_dir = state;
  }
  auto cache = cache::Cache::open(cfg.dbPath(), serving_root, now, co);
  const auto info = cache.info(now);
  if (!info.serving) log.warning("console", "not serving: " + info.reason);

  Searcher searcher(cache, serving_root, state / "console-index.db", *nik_key);
  if (auto r = searcher.prepare(now); !r)
    log.warning("console", "search index not ready: " + r.error().message);
  else
    log.info("console", "search index ready");

  // With mirror lines the staff data is synced as a kiosk's is (started once
  // the node listens).
  std::unique_ptr<sync::SyncWorker> syncer;
  if (!cfg.mirrors.empty()) {
    syncer = std::make_unique<sync::SyncWorker>(
        sync::nodeSyncOptions(cfg.dbPath(), cfg.mirrors, cfg.mirror_ca, state,
                              roster::Profile::Staff),
        serving_root, std::chrono::minutes(cfg.sync_interval_minutes));
  }

  const TlsFiles tls_files{cfg.console_cert, cfg.console_key, cfg.console_client_ca,
                           cfg.console_crl};
  auto crl_stamp = [&tls_files]() -> std::optional<fs::file_time_type> {
    std::error_code ec;
    if (tls_files.crl.empty()) return std::nullopt;
    auto t = fs::last_write_time(tls_files.crl, ec);
    if (ec) return std::nullopt;
    return t;
  };
  auto crl_loaded = crl_stamp();
  auto tls = makeServerContext(tls_files);
  if (!tls) return failStart(tls.error());

  RateLimiter limiter(static_cast<std::uint32_t>(cfg.console_rate_burst),
                      static_cast<std::uint32_t>(cfg.console_rate_per_minute));
  const Guidance guidance = Guidance::load(fs::path(cfg.ui_dir) / "content" / "guidance");
  const web::StaticFiles page(fs::path(cfg.ui_dir) / "console");
  ConsoleApi api{cache,
                 searcher,
                 **audit_log,
                 limiter,
                 guidance,
                 page,
                 node_key->publicKey(),
                 audit_path,
                 [&log](std::string_view m) { log.info("console", m); },
                 syncer ? std::function<void(nlohmann::json&)>([&syncer](nlohmann::json& data) {
                   sync::addToData(syncer->status(), data);
                 })
                        : nullptr};

  // The connections run on one worker thread per core unless console_threads
  // says otherwise: a request waiting for its audit line to reach the disk is
  // a suspended coroutine, not a blocked thread (the audit log's own sync
  // thread runs the group commit), so more threads would only switch. This
  // thread accepts and runs the timers and signals.
  const unsigned workers = cfg.console_threads > 0
                               ? static_cast<unsigned>(cfg.console_threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  net::io_context io(1);
  TlsServer server(
      io, *tls, [&api](const web::Request& req, const Operator& op) { return api.handle(req, op); },
      workers);
  auto endpoint = server.listen(cfg.console_address, cfg.console_port);
  if (!endpoint) return failStart(endpoint.error());
  server.start();
  const std::string host = endpoint->address().is_v6() ? "[" + endpoint->address().to_string() + "]"
                                                       : endpoint->address().to_string();
  log.info("kartu-bahagiad", "console listening on https://" + host + ":" +
                                 std::to_string(endpoint->port()) + "/ (client certificates only)");

  // The CRL is re-read on SIGHUP and whenever its modification time changes
  // (checked every 2 s), so a revoked operator certificate is refused without
  // a restart; the search index follows an import on the same tick. A CRL
  // that does not load leaves the old one in force (and is retried).
  auto reload_tls = [&](const char* why) {
    const auto stamp = crl_stamp();
    auto fresh = makeServerContext(tls_files);
    if (!fresh) {
      log.warning("console", std::string("CRL not reloaded (") + why +
                                 "), the previous one stays: " + fresh.error().message);
      return;
    }
    crl_loaded = stamp;
    server.replaceContext(*fresh);
    log.info("console", std::string("TLS context reloaded (") + why + "): CRL re-read");
  };
  // reload_tls, the index check and what follows a sync, one at a time
  auto reload_strand = net::make_strand(io);
  if (syncer) {
    syncer->onAttempt([&, served = serving_root.version()]() mutable {
      const auto st = syncer->status();
      if (st.last_error)
        log.warning("sync", formatError(*st.last_error) + "; serving the data it has");
      else
        log.info("sync", "ok from " + st.source +
                             (st.mirror_serial ? ", serial " + std::to_string(*st.mirror_serial)
                                               : std::string()));
      // A newer root: the cache and later index builds verify with it. Then the
      // index follows the new data at once rather than at the next tick.
      std::optional<trust::TrustRoot> newer;
      if (syncer->root().version() > served) {
        served = syncer->root().version();
        newer = syncer->root();
      }
      net::post(reload_strand, [&, newer = std::move(newer)] {
        if (newer) {
          cache.reopen(*newer, nowSeconds());
          searcher.useRoot(*newer);
        }
        searcher.maintain(nowSeconds());
      });
    });
  }
  // SIGHUP (systemctl reload): re-read the CRL, and sync now.
  net::signal_set hup(reload_strand, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload_tls("SIGHUP");
      if (syncer) syncer->syncNow();
      wait_hup();
    });
  };
  wait_hup();
  net::steady_timer tick(reload_strand);
  std::function<void()> wait_tick = [&] {
    tick.expires_after(std::chrono::seconds(2));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (!tls_files.crl.empty() && crl_stamp() != crl_loaded) reload_tls("file changed");
      searcher.maintain(nowSeconds());
      wait_tick();
    });
  };
  wait_tick();

  net::signal_set signals(io, SIGTERM, SIGINT);
  net::steady_timer guard(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log.info("kartu-bahagiad",
             std::string("stopping on ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT"));
    server.stop();
    net::post(reload_strand, [&] {
      hup.cancel();
      tick.cancel();
    });
    guard.expires_after(std::chrono::milliseconds(500));
    guard.async_wait([&io](const boost::system::error_code& e) {
      if (!e) io.stop();
    });
  });
  if (syncer) syncer->start();
  io.run();
  if (syncer) syncer->stop();  // before what its callback posts to is gone
  // The waits still pending post to the workers: serve them while they run.
  (*audit_log)->finishPending();
  if (auto c = (*audit_log)->checkpoint(nowSeconds()); !c)
    log.error("audit", "final checkpoint failed: " + c.error().message);
  const auto st = (*audit_log)->stats();
  log.info("audit", std::to_string(st.lines) + " lines in " + std::to_string(st.syncs) +
                        " syncs since start (group commit)");
  log.info("kartu-bahagiad", "stopped");
  return 0;
}

}  // namespace kb::console
