// kbctl publish, verify, import, lookup: signed membership bundles and the cache.

#include <iostream>

#include "bin/kbctl/args.h"
#include "bin/kbctl/commands.h"
#include "bin/kbctl/keys.h"
#include "cache/cache.h"
#include "cache/errors.h"
#include "cache/publish.h"
#include "cache/record_codec.h"
#include "cache/store.h"
#include "cache/trust_state.h"
#include "common/encoding.h"
#include "common/files.h"
#include "roster/errors.h"
#include "roster/nik_key.h"
#include "roster/roster.h"
#include "tpm/counter.h"

namespace kb::cli {
namespace {

Result<std::string> onePositional(const Args& a, const char* what) {
  if (a.positional().size() != 1)
    return fail(Errc::Usage, std::string("give exactly one ") + what + " (see --help)");
  return a.positional()[0];
}

Result<trust::TrustRoot> loadRoot(const Args& a, UnixSeconds now) {
  auto path = a.required("root");
  if (!path) return std::unexpected(path.error());
  return trust::TrustRoot::load(*path, now);
}

nlohmann::json manifestJson(const cache::Manifest& m) {
  nlohmann::json j = {{"type", cache::bundleTypeName(m.type)},
                      {"profile", cache::profileName(m.profile)},
                      {"serial", m.serial},
                      {"signed_at", formatUtc(m.signed_at)},
                      {"expires_at", formatUtc(m.expires_at)},
                      {"record_count", m.record_count},
                      {"entry_count", m.entry_count},
                      {"bucket_count", m.bucket_count},
                      {"content_digest", hexEncode(m.content_digest)},
                      {"signed_by", m.keyids}};
  if (m.type == cache::BundleType::Delta) {
    j["base_serial"] = m.base_serial;
    j["base_content_digest"] = hexEncode(m.base_content_digest);
  }
  return j;
}

Result<int> publishCmd(const Words& words) {
  auto a = Args::parse(words,
                       {"roster", "root", "key", "serial", "expires-days", "profile", "out", "base",
                        "nik-key", "threads"},
                       {"report"});
  if (!a) return std::unexpected(a.error());
  const UnixSeconds now = nowSeconds();
  auto roster_path = a->required("roster");
  auto out = a->required("out");
  auto profile_name = a->required("profile");
  auto serial = a->integer("serial");
  auto days = a->integer("expires-days");
  for (const auto* r : {&roster_path, &out, &profile_name})
    if (!*r) return std::unexpected(r->error());
  if (!serial) return std::unexpected(serial.error());
  if (!days) return std::unexpected(days.error());
  if (*days < 1 || *days > 3660) return fail(Errc::Usage, "--expires-days must be 1-3660");
  auto profile = cache::parseProfile(*profile_name);
  if (!profile) return fail(Errc::Usage, "--profile must be kiosk or staff");
  if (a->all("key").empty()) return fail(Errc::Usage, "missing --key (see --help)");
  auto root = loadRoot(*a, now);
  if (!root) return std::unexpected(root.error());

  // Refuse before reading a large roster: each key must be one the kiosks trust.
  auto keys = loadRoleKeys(a->all("key"), *root, trust::Role::Snapshot);
  if (!keys) return std::unexpected(keys.error());

  roster::RosterOptions ropt;
  ropt.profile = *profile;
  ropt.max_issues = a->has("report") ? static_cast<std::size_t>(-1) : 1;
  if (*profile == roster::Profile::Staff) {
    auto nik = a->get("nik-key");
    if (!nik) return fail(Errc::Usage, "the staff profile needs --nik-key FILE");
    auto key = roster::readNikKey(*nik);
    if (!key) return std::unexpected(key.error());
    ropt.nik_key = std::move(*key);
  }
  cache::PublishOptions po;
  po.profile = *profile;
  po.serial = *serial;
  po.signed_at = now;
  po.expires_at = now + *days * 86400;
  po.out_dir = *out;
  if (auto b = a->get("base")) po.base = *b;
  if (a->get("threads")) {
    auto t = a->integer("threads");
    if (!t) return std::unexpected(t.error());
    if (*t < 1 || *t > 64) return fail(Errc::Usage, "--threads must be 1-64");
    po.threads = static_cast<std::size_t>(*t);
  }
  // Streaming: the roster is never held in memory whole (docs/PERFORMANCE.md).
  std::vector<roster::RosterIssue> issues;
  std::vector<std::string> warnings;
  auto result = cache::publishRoster(*roster_path, ropt, *root, *keys, po, issues, warnings);
  if (!result && result.error().code == RosterErrc::BadRoster && !issues.empty()) {
    if (issues.size() == 1 && !a->has("report"))
      return fail(RosterErrc::BadRoster, issues[0].format());
    for (const auto& i : issues) std::cerr << i.format() << '\n';
    return fail(RosterErrc::BadRoster,
                std::to_string(issues.size()) + " bad row(s); nothing written");
  }
  for (const auto& w : warnings) std::cerr << "warning: " << w << '\n';
  if (!result) return std::unexpected(result.error());
  if (!result->note.empty()) std::cerr << "note: " << result->note << '\n';
  std::cout << result->snapshot.string() << '\n';
  if (result->delta) std::cout << result->delta->string() << '\n';
  return 0;
}

Result<int> verifyCmd(const Words& words) {
  auto a = Args::parse(words, {"root"}, {"json"});
  if (!a) return std::unexpected(a.error());
  auto bundle = onePositional(*a, "BUNDLE");
  if (!bundle) return std::unexpected(bundle.error());
  const UnixSeconds now = nowSeconds();
  auto root = loadRoot(*a, now);
  if (!root) return std::unexpected(root.error());
  auto src = cache::openFileSource(*bundle);
  if (!src) return std::unexpected(src.error());
  auto m = cache::readBundle(**src, *root, now, {});
  if (!m) return fail(m.error().code, *bundle + ": " + m.error().message);
  if (a->has("json")) {
    std::cout << manifestJson(*m).dump() << '\n';
  } else {
    std::cout << *bundle << ": OK: " << cache::profileName(m->profile) << ' '
              << cache::bundleTypeName(m->type) << " serial " << m->serial;
    if (m->type == cache::BundleType::Delta) std::cout << " (on serial " << m->base_serial << ")";
    std::cout << ", " << m->record_count << " records, signed " << formatUtc(m->signed_at)
              << ", expires " << formatUtc(m->expires_at) << '\n';
  }
  return 0;
}

Result<int> importCmd(const Words& words) {
  auto a = Args::parse(words, {"db", "root", "tpm-tcti"}, {});
  if (!a) return std::unexpected(a.error());
  auto bundle = onePositional(*a, "BUNDLE");
  if (!bundle) return std::unexpected(bundle.error());
  auto db = a->required("db");
  if (!db) return std::unexpected(db.error());
  const UnixSeconds now = nowSeconds();
  auto root = loadRoot(*a, now);
  if (!root) return std::unexpected(root.error());
  cache::ImportOptions options;
  options.trust_state = cache::trustStatePath(*db);
  options.root_chain_dir = std::filesystem::path(*a->get("root")).parent_path();
  options.tpm_tcti = tpm::resolveTcti(a->get("tpm-tcti").value_or(""));
  auto r = cache::importBundle(*db, *bundle, *root, now, options);
  if (!r) return fail(r.error().code, *bundle + ": " + r.error().message);
  std::cout << "imported " << cache::bundleTypeName(r->manifest.type) << " serial "
            << r->manifest.serial;
  if (r->previous_serial) std::cout << " (replacing serial " << *r->previous_serial << ")";
  std::cout << ": " << r->manifest.record_count << " records\n";
  return 0;
}

// lookup's --help names these numbers.
static_assert(cache::kDefaultSoftAgeHours == 36 && cache::kMinSoftAgeHours == 1 &&
              cache::kMaxSoftAgeHours == 8760 && cache::kDefaultGraceDays == 3 &&
              cache::kMinGraceDays == 0 && cache::kMaxGraceDays == 365);

/// --NAME as a whole number in lo..hi, or `fallback` when not given.
Result<int> boundedInt(const Args& a, const std::string& name, int fallback, int lo, int hi) {
  auto v = a.integer(name, fallback);
  if (!v) return std::unexpected(v.error());
  if (*v < lo || *v > hi)
    return fail(Errc::Usage, "--" + name + " must be between " + std::to_string(lo) + " and " +
                                 std::to_string(hi));
  return static_cast<int>(*v);
}

Result<int> lookupCmd(const Words& words) {
  auto a = Args::parse(words, {"db", "root", "card", "soft-age-hours", "grace-days", "tpm-tcti"},
                       {"json"});
  if (!a) return std::unexpected(a.error());
  auto db = a->required("db");
  auto card = a->required("card");
  if (!db) return std::unexpected(db.error());
  if (!card) return std::unexpected(card.error());
  // The kiosk's freshness policy and its defaults, so both answer alike from one cache.
  auto soft_age = boundedInt(*a, "soft-age-hours", cache::kDefaultSoftAgeHours,
                             cache::kMinSoftAgeHours, cache::kMaxSoftAgeHours);
  if (!soft_age) return std::unexpected(soft_age.error());
  auto grace = boundedInt(*a, "grace-days", cache::kDefaultGraceDays, cache::kMinGraceDays,
                          cache::kMaxGraceDays);
  if (!grace) return std::unexpected(grace.error());
  const UnixSeconds now = nowSeconds();
  auto root = loadRoot(*a, now);
  if (!root) return std::unexpected(root.error());
  cache::CacheOptions options;
  options.freshness = cache::freshnessPolicy(*soft_age, *grace);
  options.trust_state = cache::trustStatePath(*db);  // read, never raised by a lookup
  options.root_chain_dir = std::filesystem::path(*a->get("root")).parent_path();
  options.tpm_tcti = tpm::resolveTcti(a->get("tpm-tcti").value_or(""));
  auto cache = cache::Cache::open(*db, std::move(*root), now, options);
  auto v = cache.lookup(*card, now);
  if (a->has("json")) {
    std::cout << cache::toJson(v).dump() << '\n';
  } else {
    std::cout << cache::verdictName(v.verdict) << " (" << cache::freshnessName(v.freshness);
    if (v.snapshot)
      std::cout << ", serial " << v.snapshot->serial << ", signed "
                << formatUtc(v.snapshot->signed_at);
    std::cout << ")\n";
    if (v.card) {
      std::cout << "  card " << v.card->card_no << ": " << v.card->status << ", " << v.card->holder
                << ", " << v.card->category << ", " << v.card->kelurahan << " RT " << v.card->rt
                << '\n';
      for (std::size_t i = 0; i < v.card->coverages.size(); ++i) {
        const auto& c = v.card->coverages[i];
        std::cout << "  " << c.program << ": " << c.status << " " << c.valid_from << " to "
                  << c.valid_to << " (" << c.funder << ")"
                  << (v.active_today[i] ? ", active today" : "") << '\n';
      }
    }
  }
  if (v.verdict == cache::VerdictCode::Unverifiable) return fail(CacheErrc::Unverifiable, v.reason);
  return 0;
}

}  // namespace

std::vector<Command> bundleCommands() {
  return {
      {"publish", "sign a roster into snapshot (and delta) bundles",
       "usage: kbctl publish --roster roster.csv --root root.json --key S.key [--key S2.key ...]\n"
       "                     --serial N --expires-days D --profile kiosk|staff --out DIR\n"
       "                     [--base PREVIOUS_SNAPSHOT.kbs] [--nik-key FILE] [--report] [--threads "
       "T]\n\n"
       "Reads the roster CSV (docs/contracts.md §1), shapes it for the profile (kiosk: masked "
       "names, no NIK\n"
       "or birth date; staff: NIK as a keyed hash from --nik-key) and writes DIR/snapshot-N.kbs "
       "signed\n"
       "with the snapshot key(s). With --base (an earlier snapshot of the same profile) it also "
       "writes\n"
       "DIR/delta-B-N.kbs holding only the added, changed and removed cards. Prints the paths "
       "written.\n"
       "A bad row stops with 'file:line: column: reason' and nothing is written; --report lists "
       "every\n"
       "bad row. The keys must be listed for role snapshot in the trust root (else UNKNOWN_KEY).\n"
       "--threads: roster partitions worked on at once (default: one per core, at most 4; 1 keeps\n"
       "to one core). The bundles are the same for any value.\n",
       publishCmd},
      {"verify", "check a bundle without importing it",
       "usage: kbctl verify --root root.json [--json] BUNDLE\n\n"
       "Checks the bundle's format, signatures (against the snapshot role of the trust root), "
       "expiry,\n"
       "body digest and, for snapshots, the content digest. Prints a summary (--json: the "
       "manifest\n"
       "fields as one JSON document). Errors: MALFORMED, TRUNCATED, TOO_LARGE, BAD_SIGNATURE,\n"
       "UNKNOWN_KEY, THRESHOLD_NOT_MET, DUPLICATE_SIGNATURE, EXPIRED, ROOT_EXPIRED, "
       "DIGEST_MISMATCH.\n",
       verifyCmd},
      {"import", "verify a bundle and make it the served cache",
       "usage: kbctl import --db CACHE.db --root root.json [--tpm-tcti TCTI] BUNDLE\n\n"
       "Verifies the bundle as 'kbctl verify' does, refuses a serial not newer than the installed "
       "one\n"
       "(ROLLBACK), a delta whose base is not the installed state (WRONG_BASE), and a system "
       "clock\n"
       "earlier than the newest signed time seen (CLOCK_BEHIND). Builds CACHE.db.staging, checks "
       "it,\n"
       "and swaps it in atomically; the replaced state stays as CACHE.db.prev. On any error "
       "CACHE.db\n"
       "is untouched. The trust state beside it (trust-state.json) remembers the highest serial "
       "and\n"
       "the trusted root: a serial below it is ROLLBACK even with no cache file left, and a root "
       "not\n"
       "chained from the trusted one (links as root-N.json beside root.json) is refused.\n"
       "With a TPM 2.0 the serial is also kept in its NV counter 0x01500016, so a wiped state\n"
       "directory does not lower it. --tpm-tcti: a tpm2-tss TCTI (device:/dev/tpmrm0,\n"
       "swtpm:host=H,port=P) or none; default device:/dev/tpmrm0 when it exists, else none.\n",
       importCmd},
      {"lookup", "look a card up in the cache, re-verified",
       "usage: kbctl lookup --db CACHE.db --root root.json --card CARD_NO [--json]\n"
       "                    [--soft-age-hours H] [--grace-days D] [--tpm-tcti TCTI]\n\n"
       "Re-checks the card's bucket against the signed digests and prints the verdict (ACTIVE,\n"
       "INACTIVE, BLOCKED, NOT_FOUND, UNVERIFIABLE) with the data's freshness; --json prints the\n"
       "verdict document of docs/contracts.md §3. Exits 0 for a definite verdict; for\n"
       "UNVERIFIABLE it prints the verdict, then 'error: UNVERIFIABLE: reason', and exits 1.\n\n"
       "  --soft-age-hours H   data signed longer ago is STALE (1-8760, default 36)\n"
       "  --grace-days D       data past its signed expiry by more is EXPIRED, and the verdict\n"
       "                       UNVERIFIABLE (0-365, default 3)\n"
       "The same policy and defaults as the daemon's soft_age_hours and grace_days.\n"
       "  --tpm-tcti TCTI      the TPM whose NV counter also holds the serial (as for import)\n",
       lookupCmd},
  };
}

}  // namespace kb::cli
