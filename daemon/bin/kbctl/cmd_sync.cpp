// kbctl timestamp (publisher: describe a mirror directory) and kbctl sync (one
// sync of a cache from mirrors, with the daemon's code): docs/contracts.md §6.

#include <iostream>

#include "bin/kbctl/args.h"
#include "bin/kbctl/commands.h"
#include "bin/kbctl/keys.h"
#include "cache/trust_state.h"
#include "common/encoding.h"
#include "common/files.h"
#include "sync/sync.h"
#include "sync/timestamp.h"
#include "sync/usb.h"
#include "tpm/counter.h"

namespace kb::cli {
namespace {

Result<int> timestampCmd(const Words& words) {
  auto a = Args::parse(words, {"root", "key", "dir", "expires-hours"}, {});
  if (!a) return std::unexpected(a.error());
  auto root_path = a->required("root");
  auto dir = a->required("dir");
  auto hours = a->integer("expires-hours");
  if (!root_path) return std::unexpected(root_path.error());
  if (!dir) return std::unexpected(dir.error());
  if (!hours) return std::unexpected(hours.error());
  if (*hours < 1 || *hours > 8760) return fail(Errc::Usage, "--expires-hours must be 1-8760");
  if (a->all("key").empty()) return fail(Errc::Usage, "missing --key (see --help)");
  const UnixSeconds now = nowSeconds();
  auto root = trust::TrustRoot::load(*root_path, now);
  if (!root) return std::unexpected(root.error());
  auto keys = loadRoleKeys(a->all("key"), *root, trust::Role::Timestamp);
  if (!keys) return std::unexpected(keys.error());
  // The mirror carries every root version, so a kiosk can walk the chain.
  const std::filesystem::path root_copy =
      std::filesystem::path(*dir) / sync::rootName(root->version());
  std::error_code ec;
  if (std::filesystem::exists(root_copy, ec)) {
    auto text = readFile(root_copy, sync::kMaxRootBytes);
    if (!text) return std::unexpected(text.error());
    if (*text != root->text())
      return fail(Errc::Malformed, root_copy.string() + " is another document than " + *root_path);
  } else if (auto w = writeFileAtomic(root_copy, root->text()); !w) {
    return std::unexpected(w.error());
  }
  auto ts = sync::describeMirror(*dir, *root, now, now + *hours * 3600);
  if (!ts) return std::unexpected(ts.error());
  std::string text = sync::signTimestamp(*ts, *keys);
  // Re-read as a kiosk would: a timestamp that could never be accepted is not written.
  if (auto check = sync::parseTimestamp(text, *root, now, 0); !check)
    return std::unexpected(check.error());
  const auto out = std::filesystem::path(*dir) / sync::kTimestampFile;
  if (auto w = writeFileAtomic(out, text); !w) return std::unexpected(w.error());
  std::cout << out.string() << ": serial " << ts->serial << " (" << ts->snapshot.length
            << " bytes), " << ts->deltas.size() << " delta(s), root version " << ts->root_version
            << ", expires " << formatUtc(ts->expires_at) << '\n';
  return 0;
}

nlohmann::json reportJson(const sync::SyncReport& r) {
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& e : r.failed_mirrors)
    failed.push_back({{"code", codeName(e.code)}, {"message", e.message}});
  nlohmann::json j = {{"outcome", r.outcome == sync::SyncOutcome::Updated ? "updated" : "current"},
                      {"mirror", r.mirror},
                      {"serial", r.serial},
                      {"via", r.outcome == sync::SyncOutcome::Current ? "none"
                              : r.via_delta                           ? "delta"
                                                                      : "snapshot"},
                      {"bytes", r.bytes},
                      {"resumed", r.resumed},
                      {"root_version", r.root_version},
                      {"timestamp_expires_at", formatUtc(r.timestamp_expires_at)},
                      {"failed_mirrors", failed}};
  j["previous_serial"] = r.previous_serial ? nlohmann::json(*r.previous_serial) : nlohmann::json();
  return j;
}

Result<int> syncCmd(const Words& words) {
  auto a = Args::parse(words, {"db", "root", "mirror", "ca", "deadline-seconds"}, {"json"});
  if (!a) return std::unexpected(a.error());
  auto db = a->required("db");
  auto root_path = a->required("root");
  if (!db) return std::unexpected(db.error());
  if (!root_path) return std::unexpected(root_path.error());
  if (a->all("mirror").empty()) return fail(Errc::Usage, "missing --mirror URL (see --help)");
  auto deadline = a->integer("deadline-seconds", 30);
  if (!deadline) return std::unexpected(deadline.error());
  if (*deadline < 1 || *deadline > 3600)
    return fail(Errc::Usage, "--deadline-seconds must be 1-3600");
  const UnixSeconds now = nowSeconds();
  auto loaded = trust::TrustRoot::load(*root_path, now);
  if (!loaded) return std::unexpected(loaded.error());
  sync::SyncOptions o;
  o.db = *db;
  o.mirrors = a->all("mirror");
  if (auto ca = a->get("ca")) o.http.ca_file = *ca;
  o.http.low_speed_seconds = static_cast<long>(*deadline);
  o.root_dir = o.db.parent_path().empty() ? std::filesystem::path(".") : o.db.parent_path();
  // As kbctl import: never below the trust state; roots chained through root_dir.
  o.import.trust_state = cache::trustStatePath(o.db);
  o.import.root_chain_dir = o.root_dir;
  // Roots fetched by earlier syncs are kept beside the cache; start from the newest.
  trust::TrustRoot root = sync::newestLocalRoot(std::move(*loaded), o.root_dir, now);
  auto r = sync::syncOnce(o, root, now);
  if (a->has("json")) {
    nlohmann::json j;
    if (r) {
      j = reportJson(*r);
      j["error"] = nullptr;
    } else {
      j = {{"outcome", "failed"},
           {"error", {{"code", codeName(r.error().code)}, {"message", r.error().message}}}};
    }
    std::cout << j.dump() << '\n';
  } else if (r) {
    for (const auto& e : r->failed_mirrors)
      std::cerr << "note: " << formatError(e).substr(7) << '\n';
    if (r->outcome == sync::SyncOutcome::Current)
      std::cout << "current: serial " << r->serial << " from " << r->mirror << '\n';
    else
      std::cout << "updated to serial " << r->serial << " by "
                << (r->via_delta ? "delta" : "snapshot") << " from " << r->mirror << " ("
                << r->bytes << " bytes" << (r->resumed ? ", resumed" : "") << ")\n";
  }
  if (!r) return std::unexpected(r.error());
  return 0;
}

// What the USB unit runs (packaging/usb/kartu-bahagia-usb-import) on a stick mounted
// read-only: the same options as the daemon's background sync.
Result<int> importUsbCmd(const Words& words) {
  auto a = Args::parse(words, {"db", "root", "state-dir", "result", "tpm-tcti"}, {"json"});
  if (!a) return std::unexpected(a.error());
  auto db = a->required("db");
  auto root_path = a->required("root");
  if (!db) return std::unexpected(db.error());
  if (!root_path) return std::unexpected(root_path.error());
  if (a->positional().size() != 1) return fail(Errc::Usage, "give exactly one DIR (see --help)");
  const std::filesystem::path dir = a->positional()[0];
  const UnixSeconds now = nowSeconds();
  auto loaded = trust::TrustRoot::load(*root_path, now);
  if (!loaded) return std::unexpected(loaded.error());
  const std::filesystem::path db_path = *db;
  const std::filesystem::path state_dir =
      a->get("state-dir")
          .value_or(db_path.parent_path().empty() ? std::string(".")
                                                  : db_path.parent_path().string());
  sync::SyncOptions o;
  o.db = db_path;
  o.root_dir = state_dir;  // as the daemon: walked roots are kept in the state directory
  o.import.trust_state = cache::trustStatePath(o.db);
  o.import.root_chain_dir = state_dir;
  o.import.tpm_tcti = tpm::resolveTcti(a->get("tpm-tcti").value_or(""));
  o.import.profile = roster::Profile::Kiosk;
  trust::TrustRoot root = sync::newestLocalRoot(std::move(*loaded), state_dir, now);
  auto r = sync::importUsb(dir, o, root, now);
  const auto doc = sync::toJson(r);
  const std::filesystem::path result =
      a->get("result").value_or(sync::usbResultPath(state_dir).string());
  if (auto w = writeFileAtomic(result, doc.dump() + "\n"); !w)
    std::cerr << "warning: " << result.string() << ": " << w.error().message << '\n';
  if (a->has("json"))
    std::cout << doc.dump() << '\n';
  else if (!r.error)
    std::cout << r.outcome << ": serial " << *r.serial << " from the stick (" << r.layout << ")\n";
  if (r.error) return std::unexpected(*r.error);
  return 0;
}

}  // namespace

std::vector<Command> syncCommands() {
  return {
      {"timestamp", "sign timestamp.json for a mirror directory",
       "usage: kbctl timestamp --root root.json --key T.key [--key T2.key ...] --dir MIRROR_DIR\n"
       "                       --expires-hours H\n\n"
       "Verifies the newest MIRROR_DIR/snapshot-N.kbs and every MIRROR_DIR/delta-B-N.kbs ending "
       "at it,\n"
       "copies the trust root to MIRROR_DIR/root-V.json if it is not there, and writes\n"
       "MIRROR_DIR/timestamp.json naming each file's serial, SHA-256 and length, signed by the\n"
       "timestamp role's key(s) and expiring after H hours (1-8760). The directory can then be\n"
       "served as-is by any static HTTPS server. A kiosk whose newest timestamp has expired "
       "reports\n"
       "FREEZE, so publish a fresh timestamp well within H hours, even when the data is "
       "unchanged.\n",
       timestampCmd},
      {"sync", "bring a cache up to date from mirrors",
       "usage: kbctl sync --db CACHE.db --root root.json --mirror URL [--mirror URL2 ...]\n"
       "                  [--ca CA.pem] [--deadline-seconds S] [--json]\n\n"
       "Runs one sync exactly as the daemon does: fetches URL/timestamp.json, walks\n"
       "URL/root-N.json from the trusted root (each version signed by a threshold of the previous\n"
       "one's root keys and its own; accepted roots are kept beside CACHE.db), checks the "
       "timestamp\n"
       "(signature, expiry: FREEZE, serial below the installed one: ROLLBACK), downloads the "
       "delta\n"
       "from the installed serial or else the snapshot (never more bytes than the timestamp "
       "names,\n"
       "resuming a partial download kept in CACHE.db.sync/), checks its SHA-256 and imports it as\n"
       "'kbctl import' does. Mirrors are tried in order. --ca trusts that CA instead of the\n"
       "system's; --deadline-seconds: a transfer slower than 1 KiB/s for that long is TIMEOUT\n"
       "(default 30). Exits 0 when the cache is current. Errors name the fault: "
       "MIRROR_UNREACHABLE,\n"
       "TLS_UNTRUSTED, HTTP_STATUS, TIMEOUT, LENGTH_MISMATCH, DIGEST_MISMATCH, ROLLBACK, FREEZE,\n"
       "DISK_FULL, and the signature and import errors. --json prints one JSON document either "
       "way.\n",
       syncCmd},
      {"import-usb", "import the data on a mounted USB stick, with a mirror's checks",
       "usage: kbctl import-usb --db CACHE.db --root root.json [--state-dir DIR] [--result FILE]\n"
       "                        [--tpm-tcti TCTI] [--json] STICK_DIR\n\n"
       "STICK_DIR (or its kartu-bahagia/ subdirectory) is either a mirror directory (with\n"
       "timestamp.json: synced from file:// exactly as 'kbctl sync' does, FREEZE and ROLLBACK\n"
       "included) or holds signed bundles (the newest snapshot-N.kbs, else delta-B-N.kbs, is\n"
       "imported as 'kbctl import' does). Roots walked are kept in --state-dir (default: the\n"
       "directory of CACHE.db), where the result is written as usb-import.json (or --result)\n"
       "for the kiosk to show. On any refusal the served cache is untouched and the exit\n"
       "status is non-zero with the typed code.\n",
       importUsbCmd},
  };
}

}  // namespace kb::cli
