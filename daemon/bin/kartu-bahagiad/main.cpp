// kartu-bahagiad: parses the command line and wires the pieces together.
// Everything it wires lives in a library (config, kiosk, web, cache, card, drivers).

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bin/kartu-bahagiad/synced_source.h"
#include "cache/cache.h"
#include "cache/trust_state.h"
#include "card/originality.h"
#include "common/encoding.h"
#include "config/config.h"
#include "console/node.h"
#include "demo/demo.h"
#include "kiosk/data_source.h"
#include "kiosk/log.h"
#include "kiosk/reader_loop.h"
#include "kiosk/service.h"
#include "libnfc/libnfc_reader.h"
#include "sim/sim_reader.h"
#include "sync/usb.h"
#include "sync/worker.h"
#include "tpm/counter.h"
#include "trust/trust.h"
#include "web/broadcaster.h"
#include "web/kiosk_routes.h"
#include "web/operator_routes.h"
#include "web/server.h"

namespace {

namespace net = boost::asio;
namespace fs = std::filesystem;
using namespace kb;

constexpr const char* kUsage =
    "usage: kartu-bahagiad --config FILE          run with a configuration file\n"
    "       kartu-bahagiad --check-config FILE    check a configuration file and exit\n"
    "       kartu-bahagiad --demo [--listen ADDR:PORT] [--state-dir DIR] [--set KEY=VALUE ...]\n"
    "                                             built-in demo: DEV keys, signed demo cache, sim "
    "reader\n"
    "       kartu-bahagiad --help\n"
    "\n"
    "--set (demo only, repeatable) overrides any configuration key, e.g.\n"
    "  --set removal_timeout_ms=1500 --set idle_timeout_ms=5000 --set ui_dir=./kiosk-ui\n"
    "\n"
    "Configuration keys (one `key = value` per line, # comments):\n";

struct Args {
  std::optional<std::string> config, check_config, listen, state_dir;
  std::vector<std::string> sets;
  bool demo = false;
  bool help = false;
};

Result<Args> parseArgs(int argc, char** argv) {
  Args a;
  std::vector<std::string> v(argv + 1, argv + argc);
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto value = [&](const char* flag) -> Result<std::string> {
      if (i + 1 >= v.size()) return fail(Errc::Usage, std::string(flag) + " needs a value");
      return v[++i];
    };
    const std::string& arg = v[i];
    Result<std::string> r;
    if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg == "--demo") {
      a.demo = true;
    } else if (arg == "--config") {
      if (r = value("--config"); !r) return std::unexpected(r.error());
      a.config = *r;
    } else if (arg == "--check-config") {
      if (r = value("--check-config"); !r) return std::unexpected(r.error());
      a.check_config = *r;
    } else if (arg == "--listen") {
      if (r = value("--listen"); !r) return std::unexpected(r.error());
      a.listen = *r;
    } else if (arg == "--state-dir") {
      if (r = value("--state-dir"); !r) return std::unexpected(r.error());
      a.state_dir = *r;
    } else if (arg == "--set") {
      if (r = value("--set"); !r) return std::unexpected(r.error());
      a.sets.push_back(*r);
    } else {
      return fail(Errc::Usage, "unknown argument '" + arg + "' (see --help)");
    }
  }
  if (a.help) return a;
  int modes = (a.config ? 1 : 0) + (a.check_config ? 1 : 0) + (a.demo ? 1 : 0);
  if (modes != 1)
    return fail(Errc::Usage, "give exactly one of --config, --check-config, --demo (see --help)");
  if (!a.demo && (a.listen || a.state_dir || !a.sets.empty()))
    return fail(Errc::Usage,
                "--listen, --state-dir and --set are for --demo only; production settings live in "
                "the config file");
  return a;
}

int printError(const Error& e) {
  std::fprintf(stderr, "%s\n", formatError(e).c_str());
  return exitCodeOf(e);  // the same exit codes as kbctl (docs/contracts.md §2, §5)
}

std::string defaultUiDir(const char* argv0) {
  // Installed: <prefix>/bin/kartu-bahagiad -> <prefix>/share/kartu-bahagia/kiosk-ui.
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  auto installed = exe.parent_path().parent_path() / "share" / "kartu-bahagia" / "kiosk-ui";
  if (fs::is_directory(installed, ec)) return installed.string();
  return KB_SOURCE_UI_DIR;  // running from a build tree
}

cache::FreshnessPolicy policyOf(const config::Config& c) {
  return cache::freshnessPolicy(c.soft_age_hours, c.grace_days);
}

// What start-up checks before it serves, for --config and --check-config alike:
// the directories, the trust root (a DEV root only with allow_dev_root) and,
// for --check-config, that the root is chained from the one this node trusts
// (a running daemon reports that one as ROOT_NOT_TRUSTED instead of exiting).
Result<trust::TrustRoot> checkStartup(const config::Config& cfg, UnixSeconds now,
                                      bool check_chain) {
  std::error_code ec;
  const fs::path db_dir = fs::path(cfg.dbPath()).parent_path();
  for (const auto& [key, dir] : {std::pair<const char*, fs::path>{"state_dir", cfg.state_dir},
                                 {"ui_dir", cfg.ui_dir},
                                 {"db", db_dir.empty() ? fs::path(".") : db_dir}})
    if (!fs::is_directory(dir, ec))
      return fail(Errc::Config, std::string(key) + ": " + dir.string() + ": no such directory");
  auto root = trust::TrustRoot::load(cfg.root, now);
  if (!root) return fail(root.error().code, "root: " + root.error().message);
  if (root->dev() && !cfg.allow_dev_root)
    return fail(Errc::Config, "root: " + cfg.root +
                                  " is a public DEV root (anyone can sign for it): refused "
                                  "outside --demo unless allow_dev_root = true");
  if (check_chain) {
    auto state = cache::loadTrustState(cache::trustStatePath(cfg.dbPath()));
    if (!state) return std::unexpected(state.error());
    if (auto r = cache::checkRootChain(*state, *root, fs::path(cfg.root).parent_path()); !r)
      return fail(r.error().code, "root: " + cfg.root + ": " + r.error().message);
  }
  return root;
}

int run(const config::Config& cfg, bool demo_mode, const std::string& state_dir_shown) {
  kiosk::Logger log(kiosk::parseLogLevel(cfg.log_level));
  if (!demo_mode && cfg.hasRole("console")) {
    console::NodeLog node_log{[&log](std::string_view c, std::string_view m) { log.info(c, m); },
                              [&log](std::string_view c, std::string_view m) { log.warning(c, m); },
                              [&log](std::string_view c, std::string_view m) { log.error(c, m); }};
    // The same start-up checks as a kiosk: directories, no DEV root unless allowed.
    auto root = checkStartup(cfg, nowSeconds(), false);
    if (!root) return printError(root.error());
    return console::runNode(cfg, std::move(*root), node_log);
  }
  const UnixSeconds now = nowSeconds();

  // The reader: the only hardware. sim for the demo and UI tests, libnfc otherwise.
  std::unique_ptr<reader::Reader> reader;
  reader::SimReader* sim = nullptr;
  if (cfg.reader == "sim") {
    auto s = std::make_unique<reader::SimReader>();
    sim = s.get();
    reader = std::move(s);
  } else {
    reader::LibnfcOptions options;
    if (cfg.reader != "auto") options.connstring = cfg.reader;
    reader = std::make_unique<reader::LibnfcReader>(options);
  }

  // Trust root, cache and originality keys: from the demo, or from the config's files.
  std::unique_ptr<demo::Demo> demo;
  std::optional<trust::TrustRoot> root;
  std::optional<cache::Cache> cache;
  std::unique_ptr<kiosk::DataSource> source;
  bool tpm_counter = false;  // the trust state serial is also in a TPM NV counter
  std::unique_ptr<sync::SyncWorker> syncer;
  std::unique_ptr<SyncedSource> synced;
  std::vector<card::OriginalityKey> originality_keys;
  kiosk::DataSource* data = nullptr;
  if (demo_mode) {
    auto d = demo::Demo::prepare(cfg.state_dir, *sim, policyOf(cfg), now);
    if (!d) return printError(d.error());
    demo = std::move(*d);
    originality_keys = demo->originalityKeys();
    data = demo.get();
  } else {
    auto r = checkStartup(cfg, now, false);
    if (!r) return printError(r.error());
    root = std::move(*r);
    cache::CacheOptions options;
    options.freshness = policyOf(cfg);
    options.profile = roster::Profile::Kiosk;
    // Never served below what this node accepted; the root must chain from the pinned one.
    options.trust_state = cache::trustStatePath(cfg.dbPath());
    options.raise_trust_state = true;
    options.root_chain_dir = fs::path(cfg.root).parent_path();
    options.tpm_tcti = tpm::resolveTcti(cfg.tpm_tcti);  // the serial also in the TPM's counter
    tpm_counter = options.tpm_tcti.has_value();
    // A kiosk that synced walks the root chain into the state directory: it serves
    // with the newest root it accepted, not the one it was installed with.
    trust::TrustRoot serving_root = *root;
    if (!cfg.mirrors.empty()) {
      serving_root = sync::newestLocalRoot(*root, cfg.state_dir, now);
      if (serving_root.version() > root->version()) options.root_chain_dir = cfg.state_dir;
    }
    root = serving_root;  // cards are checked with it too (the reader loop's trust root)
    cache = cache::Cache::open(cfg.dbPath(), serving_root, now, options);
    source = std::make_unique<kiosk::CacheSource>(*cache, cfg.dbPath());  // watched, not re-stat
    data = source.get();
    if (!cfg.mirrors.empty()) {  // background sync on its own thread (docs/contracts.md §6)
      auto so = sync::nodeSyncOptions(cfg.dbPath(), cfg.mirrors, cfg.mirror_ca, cfg.state_dir,
                                      roster::Profile::Kiosk);
      so.import.tpm_tcti = options.tpm_tcti;
      syncer = std::make_unique<sync::SyncWorker>(
          std::move(so), *root, std::chrono::minutes(cfg.sync_interval_minutes));  // serving_root
    }
    // The sync's fields and the last USB stick's result in /api/state (kbctl import-usb).
    synced =
        std::make_unique<SyncedSource>(*source, syncer.get(), sync::usbResultPath(cfg.state_dir));
    data = synced.get();
    auto key = cfg.originality_key.empty()
                   ? card::OriginalityKey::nxpNtag21x()
                   : card::OriginalityKey::fromPoint(hexDecode(cfg.originality_key).value_or(""));
    if (!key) return printError(Error{Errc::Config, "originality_key: " + key.error().message});
    originality_keys.push_back(*key);
  }
  const trust::TrustRoot& trust_root = demo ? demo->root() : *root;

  net::io_context io(1);
  auto kiosk_strand = net::make_strand(io);
  web::Broadcaster broadcaster(kiosk_strand);
  kiosk::Timeouts timeouts{std::chrono::milliseconds(cfg.removal_timeout_ms),
                           std::chrono::milliseconds(cfg.idle_timeout_ms),
                           std::chrono::milliseconds(cfg.error_timeout_ms)};
  kiosk::Machine machine(timeouts, sim ? "sim" : "libnfc", demo_mode, cfg.public_guidance_url);
  machine.setDev(trust_root.dev());  // every screen, /api/state and /metrics say DEV
  metrics::Registry registry;        // /metrics: filled by the kiosk, the web layer and the sync
  kiosk::KioskService kiosk(
      kiosk_strand, std::move(machine), *data,
      [&broadcaster](std::shared_ptr<const std::string> s) { broadcaster.publish(std::move(s)); },
      log, registry);
  kiosk.setTpmCounter(tpm_counter);

  web::HttpCounters counters;
  web::KioskApi api{kiosk, broadcaster, counters, cfg.ui_dir, cfg.public_guidance_url, demo.get()};
  api.printer.device = cfg.printer;  // the printed slip, when a receipt printer is attached
  web::Router router;
  web::addKioskRoutes(router, api);
  // The kelurahan operator's health screen (PIN from the config; nothing changes data).
  web::OperatorGate operator_gate(cfg.operator_pin_hash);
  web::OperatorApi operator_api{
      broadcaster, operator_gate,
      syncer ? std::function<void()>([&syncer] { syncer->syncNow(); }) : std::function<void()>(),
      cfg.state_dir, sync::usbResultPath(cfg.state_dir)};
  web::addOperatorRoutes(router, operator_api);
  web::Server server(io, router, broadcaster, counters,
                     [&kiosk](std::string text) { kiosk.uiAction(std::move(text)); });
  auto endpoint = server.listen(cfg.listen_address, cfg.listen_port);
  if (!endpoint) return printError(endpoint.error());
  // management_listen: GET /metrics and /healthz only, on any address, with the kiosk
  // server's connection budgets and timeouts (docs/operations.md, "Fleet monitoring").
  web::Router management_router;
  std::unique_ptr<web::Server> management;
  std::string management_url;
  if (!cfg.management_address.empty()) {
    web::addManagementRoutes(management_router, api);
    web::HttpOptions management_options;
    management_options.management = true;
    management = std::make_unique<web::Server>(
        io, management_router, broadcaster, counters, [](std::string) {}, management_options);
    auto m = management->listen(cfg.management_address, cfg.management_port);
    if (!m) return printError(Error{m.error().code, "management_listen: " + m.error().message});
    management_url =
        "http://" +
        (m->address().is_v6() ? "[" + m->address().to_string() + "]" : m->address().to_string()) +
        ":" + std::to_string(m->port()) + "/";
  }

  kiosk::ReaderLoop reader_loop(*reader, trust_root, originality_keys, kiosk, log);
  if (syncer)
    syncer->onAttempt([&kiosk, &syncer, &cache, &kiosk_strand,
                       served = syncer->root().version()]() mutable {  // as the cache opened
      // A sync that walked to a newer root: reopen the cache with it, or the new root's
      // bundles never verify. On the kiosk's strand, not here: the worker thread runs in
      // the background class, and a reopen holds the lock every tap's lookup takes.
      if (syncer->root().version() > served) {
        served = syncer->root().version();
        net::post(kiosk_strand,
                  [&cache, newer = syncer->root()] { cache->reopen(newer, nowSeconds()); });
      }
      kiosk.refreshData();  // after the reopen: the strand runs them in order
    });
  if (syncer)
    registry.addCollector(
        [&syncer](metrics::Registry& r) { sync::recordMetrics(syncer->status(), r); });
  kiosk.start();
  server.start();
  if (management) management->start();
  reader_loop.start();
  if (syncer) syncer->start();
  // SIGHUP (systemctl reload): sync now.
  net::signal_set hup(io, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (syncer) syncer->syncNow();
      wait_hup();
    });
  };
  wait_hup();

  std::string host = endpoint->address().is_v6() ? "[" + endpoint->address().to_string() + "]"
                                                 : endpoint->address().to_string();
  std::string url = "http://" + host + ":" + std::to_string(endpoint->port()) + "/";
  log.info("kartu-bahagiad",
           "listening on " + url + " reader=" + cfg.reader + (demo_mode ? " demo" : ""));
  if (management)
    log.info("kartu-bahagiad", "management listener on " + management_url + " (metrics, healthz)");
  if (demo_mode) {
    std::printf(
        "Kartu Bahagia kiosk demo (DEV keys, synthetic data: %zu cards) in %s\n"
        "  Open the kiosk:    %s\n"
        "  Tap a demo card:   curl -H 'Content-Type: application/json' -d "
        "'{\"card_no\":\"KB-DEMO-ACTIVE\"}' %sapi/demo/tap\n"
        "  Take it away:      curl -X POST %sapi/demo/remove\n"
        "  Every demo card:   curl %sapi/demo/cards\n"
        "  Stop: Ctrl-C\n",
        demo->rosterSize(), state_dir_shown.c_str(), url.c_str(), url.c_str(), url.c_str(),
        url.c_str());
    std::fflush(stdout);
  }

  // SIGTERM/SIGINT: stop accepting, close sessions, stop timers; hard stop after a bound.
  net::signal_set signals(io, SIGTERM, SIGINT);
  net::steady_timer guard(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log.info("kartu-bahagiad",
             std::string("stopping on ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT"));
    server.stop();
    if (management) management->stop();
    kiosk.stop();
    hup.cancel();
    guard.expires_after(std::chrono::milliseconds(500));
    guard.async_wait([&io](const boost::system::error_code& e) {
      if (!e) io.stop();
    });
  });
  io.run();
  if (syncer) syncer->stop();  // a transfer in progress ends within its low-speed deadline
  // Every libnfc wait is abortable except an nfc_open in progress on a device
  // that does not answer; shutdown must not wait on it past the 1 s bound.
  auto reader_stopped = std::async(std::launch::async, [&reader_loop] { reader_loop.stop(); });
  if (reader_stopped.wait_for(std::chrono::milliseconds(400)) == std::future_status::timeout) {
    log.warning("kartu-bahagiad", "reader still busy; exiting without waiting for it");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  log.info("kartu-bahagiad", "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parseArgs(argc, argv);
  if (!args) return printError(args.error());
  if (args->help) {
    std::printf("%s", kUsage);
    for (const auto& k : config::keyTable())
      std::printf("  %-20s %-38s %s\n", std::string(k.name).c_str(), std::string(k.kind).c_str(),
                  std::string(k.help).c_str());
    return 0;
  }
  if (args->check_config) {
    auto c = config::load(*args->check_config);
    if (!c) return printError(c.error());
    auto checked = checkStartup(*c, nowSeconds(), true);
    if (!checked)
      return printError(
          Error{checked.error().code, *args->check_config + ": " + checked.error().message});
    std::printf("%s: ok\n", args->check_config->c_str());
    return 0;
  }
  if (args->config) {
    auto c = config::load(*args->config);
    if (!c) return printError(c.error());
    return run(*c, false, c->state_dir);
  }
  // Demo: no files needed; defaults suited to a laptop, overridable by flags.
  config::Config c;
  c.reader = "sim";
  c.state_dir = "./demo-state";
  c.ui_dir = defaultUiDir(argv[0]);
  if (args->state_dir) c.state_dir = *args->state_dir;
  if (args->listen)
    if (auto r = config::setKey(c, "listen", *args->listen); !r)
      return printError(Error{Errc::Usage, r.error().message});
  for (const auto& s : args->sets)
    if (auto r = config::applyOverride(c, s); !r)
      return printError(Error{Errc::Usage, "--set " + r.error().message});
  if (c.reader != "sim") return printError(Error{Errc::Usage, "--demo needs reader=sim"});
  return run(c, true, c.state_dir);
}
