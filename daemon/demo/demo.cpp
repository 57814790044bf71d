#include "demo/demo.h"

#include <algorithm>
#include <sstream>
#include <system_error>

#include "cache/publish.h"
#include "cache/store.h"
#include "card/card_image.h"
#include "card/credential.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/crypto.h"
#include "roster/errors.h"
#include "roster/roster.h"
#include "synthetic/synthetic.h"

namespace kb::demo {

namespace fs = std::filesystem;

namespace {

constexpr UnixSeconds kDay = 86400;
constexpr std::size_t kSyntheticCards = 300;

const char* const kOwnedPrefixes[] = {"keys",       "bundles",   "cache.db",  "stale.db",
                                      "expired.db", "root.json", "demo.json", "README-DEV.txt"};

std::string uidFor(std::string_view card_no) {
  // NXP UIDs start with 0x04; the rest is a stable function of the card number.
  return "\x04" + crypto::sha256(card_no).substr(0, 6);
}

roster::Coverage coverage(std::string program, std::string status, EpochDay from, EpochDay to,
                          std::string funder = "APBD Kota Jambi",
                          std::string legal = "Perwal Jambi No. 14 Tahun 2025") {
  roster::Coverage c;
  c.program = std::move(program);
  c.status = std::move(status);
  c.valid_from = formatDate(from);
  c.valid_to = formatDate(to);
  c.funder = std::move(funder);
  c.legal_basis = std::move(legal);
  return c;
}

roster::CardRecord person(std::string card_no, std::string_view full_name, std::string status,
                          std::string category, std::string kelurahan, std::string rt) {
  roster::CardRecord r;
  r.card_no = std::move(card_no);
  r.card_uid = hexEncode(uidFor(r.card_no));
  r.status = std::move(status);
  r.holder = roster::maskName(full_name);
  r.category = std::move(category);
  r.kecamatan = "Telanaipura";
  r.kelurahan = std::move(kelurahan);
  r.rt = std::move(rt);
  return r;
}

Result<void> writeKey(const fs::path& dir, const std::string& name, const std::string& pem) {
  return writeFileAtomic(dir / (name + ".key"), pem, 0600);
}

Result<fs::path> publishAndImport(std::vector<roster::CardRecord> records,
                                  const trust::TrustRoot& root, const crypto::SigningKey& key,
                                  const fs::path& out_dir, const fs::path& db,
                                  UnixSeconds signed_at, UnixSeconds expires_at,
                                  UnixSeconds import_at) {
  std::sort(records.begin(), records.end(),
            [](const roster::CardRecord& a, const roster::CardRecord& b) {
              return a.card_no < b.card_no;
            });
  cache::PublishOptions options;
  options.profile = roster::Profile::Kiosk;
  options.serial = 1;
  options.signed_at = signed_at;
  options.expires_at = expires_at;
  options.out_dir = out_dir;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  auto published = cache::publish(std::move(records), root, {key}, options);
  if (!published) return std::unexpected(published.error());
  auto imported = cache::importBundle(db, published->snapshot, root, import_at);
  if (!imported) return std::unexpected(imported.error());
  return published->snapshot;
}

// The scenario table: one row per demo card.
constexpr Scenario kScenarios[] = {
    {"KB-DEMO-ACTIVE", "Active: JKK, JKM and JKN", "ACTIVE", "status", ""},
    {"KB-DEMO-KAMPUNG", "Active through a Kampung Bahagia activity", "ACTIVE", "status", ""},
    {"KB-DEMO-INACTIVE", "Coverage ended", "INACTIVE", "status", ""},
    {"KB-DEMO-STALE", "Active, data 3 days old (amber banner)", "ACTIVE", "status", "",
     ChipKind::Genuine, Answer::Stale},
    {"KB-DEMO-LOST", "Card reported lost", "BLOCKED", "error", "BLOCKED"},
    {"KB-DEMO-REVOKED", "Card revoked", "BLOCKED", "error", "BLOCKED"},
    {"KB-DEMO-NOTFOUND", "Genuine card, not in the data yet", "NOT_FOUND", "error", "NOT_FOUND"},
    {"KB-DEMO-CLONED", "Copy of KB-DEMO-ACTIVE on another chip", "CLONED", "error",
     "CANNOT_VERIFY_CARD", ChipKind::Clone, Answer::Main, "KB-DEMO-ACTIVE"},
    {"KB-DEMO-FORGED", "Signed by a key the trust root does not list", "FORGED", "error",
     "CANNOT_VERIFY_CARD", ChipKind::Forged},
    {"DEMO-BLANK", "Blank NTAG213 (not a Kartu Bahagia)", "UNKNOWN_FORMAT", "error",
     "NOT_KARTU_BAHAGIA", ChipKind::Blank},
    {"DEMO-PULLED", "Card pulled away while reading", "READ_ERROR", "error", "READ_ERROR",
     ChipKind::Pulled, Answer::Main, "KB-DEMO-ACTIVE"},
    {"KB-DEMO-EXPIRED", "Answered from an expired snapshot", "DATA_TOO_OLD", "error",
     "DATA_TOO_OLD", ChipKind::Genuine, Answer::Expired},
    {"KB-DEMO-NODATA", "Answered as if no valid cache existed", "NO_DATA", "error", "NO_DATA",
     ChipKind::Genuine, Answer::NoData},
};

const Scenario* findScenario(std::string_view card_no) {
  for (const auto& s : kScenarios)
    if (s.card_no == card_no) return &s;
  return nullptr;
}

}  // namespace

std::span<const Scenario> scenarios() {
  return kScenarios;
}

Demo::Demo(reader::SimReader& sim, trust::TrustRoot root) : sim_(sim), root_(std::move(root)) {}

Result<std::unique_ptr<Demo>> Demo::prepare(const fs::path& state_dir, reader::SimReader& sim,
                                            cache::FreshnessPolicy policy, UnixSeconds now) {
  std::error_code ec;
  if (fs::exists(state_dir, ec) && !fs::is_empty(state_dir, ec) &&
      !fs::exists(state_dir / "demo.json", ec))
    return fail(Errc::Usage,
                state_dir.string() +
                    " is not empty and not a demo directory (no demo.json): not touching it");
  // Recreate from scratch each start: a few hundred cards take well under a second,
  // and a fresh snapshot never runs into its own expiry.
  if (fs::exists(state_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(state_dir, ec)) {
      auto name = entry.path().filename().string();
      for (const char* prefix : kOwnedPrefixes)
        if (name.starts_with(prefix)) fs::remove_all(entry.path(), ec);
    }
  }
  fs::create_directories(state_dir / "keys", ec);
  if (ec)
    return fail(Errc::Io, "cannot create " + (state_dir / "keys").string() + ": " + ec.message());

  // Keys: all DEV, never to be used for real cards.
  auto root_key = crypto::SigningKey::generate();
  auto snapshot_key = crypto::SigningKey::generate();
  auto card_key = crypto::SigningKey::generate();
  auto rogue_key = crypto::SigningKey::generate();  // not in the root: signs the forged card
  auto nxp_key = card::OriginalitySigningKey::generate();
  if (!root_key || !snapshot_key || !card_key || !rogue_key || !nxp_key)
    return fail(Errc::Internal, "cannot generate demo keys");
  const auto keys = state_dir / "keys";
  for (auto r : {writeKey(keys, "DEV-root", root_key->toPem()),
                 writeKey(keys, "DEV-snapshot", snapshot_key->toPem()),
                 writeKey(keys, "DEV-card", card_key->toPem()),
                 writeKey(keys, "DEV-rogue-card", rogue_key->toPem()),
                 writeKey(keys, "DEV-originality", nxp_key->toPem())})
    if (!r) return std::unexpected(r.error());

  trust::RootSpec spec;
  spec.expires = now + 365 * kDay;
  spec.dev = true;
  spec.root_keys = {root_key->publicKey()};
  spec.snapshot_keys = {snapshot_key->publicKey()};
  spec.card_keys = {card_key->publicKey()};
  const std::string root_text = trust::makeRoot(spec, {*root_key});
  if (auto r = writeFileAtomic(state_dir / "root.json", root_text); !r)
    return std::unexpected(r.error());
  auto root = trust::TrustRoot::parse(root_text, now);
  if (!root) return std::unexpected(root.error());

  std::unique_ptr<Demo> demo(new Demo(sim, *root));
  demo->card_key_ = *card_key;
  demo->nxp_key_ = *nxp_key;
  demo->originality_keys_ = {nxp_key->publicKey()};

  // A synthetic city: a few hundred realistic cards.
  std::ostringstream csv;
  synthetic::SynthOptions synth;
  synth.cards = kSyntheticCards;
  synth.seed = 1571;
  if (auto r = synthetic::writeSyntheticRoster(csv, synth); !r) return std::unexpected(r.error());
  roster::RosterOptions roster_options;
  roster_options.profile = roster::Profile::Kiosk;
  auto roster = roster::parseRoster(csv.str(), "demo-roster.csv", roster_options);
  if (!roster)
    return fail(RosterErrc::BadRoster,
                roster.error().empty() ? "demo roster" : roster.error().front().format());
  std::vector<roster::CardRecord> records = std::move(roster->cards);

  // One card per verdict.
  const EpochDay today = dayOf(now);
  auto active =
      person("KB-DEMO-ACTIVE", "SITI NURHALIZA", "active", "pekerja_rentan", "Telanaipura", "007");
  active.occupation = "ojek online";
  active.coverages = {coverage("JKK", "active", today - 200, today + 165),
                      coverage("JKM", "active", today - 200, today + 165),
                      coverage("JKN", "active", today - 200, today + 165,
                               "APBD Kota Jambi (PBI Daerah)", "Perwal Jambi No. 3 Tahun 2024")};
  auto kampung =
      person("KB-DEMO-KAMPUNG", "AHMAD SYARA'I", "active", "warga", "Buluran Kenali", "012");
  for (auto program : {"JKK", "JKM"}) {
    auto c = coverage(program, "active", today - 10, today + 20);
    c.activity = "Gotong royong Kampung Bahagia: pembersihan drainase RT 012";
    c.sk_rt_no = "SK-RT012/BK/XI/2026";
    c.legal_basis =
        "Perwal Jambi No. 18 Tahun 2025";  // Kampung Bahagia, as in the synthetic roster
    kampung.coverages.push_back(c);
  }
  auto inactive =
      person("KB-DEMO-INACTIVE", "RAHMAT HIDAYAT", "active", "phl", "Pematang Sulur", "003");
  inactive.coverages = {coverage("JKK", "ended", today - 400, today - 30),
                        coverage("JKM", "ended", today - 400, today - 30)};
  auto lost = person("KB-DEMO-LOST", "DEWI LESTARI", "lost", "kader", "Simpang IV Sipin", "005");
  lost.coverages = {coverage("JKK", "active", today - 100, today + 200)};
  auto revoked =
      person("KB-DEMO-REVOKED", "JOKO SUSILO", "revoked", "ketua_rt", "Sungai Putri", "009");
  revoked.coverages = {coverage("JKK", "active", today - 100, today + 200)};
  auto stale =
      person("KB-DEMO-STALE", "NURUL AINI", "active", "petugas_keagamaan", "Telanaipura", "002");
  stale.coverages = {coverage("JKK", "active", today - 50, today + 300),
                     coverage("JKM", "active", today - 50, today + 300)};
  auto expired =
      person("KB-DEMO-EXPIRED", "BUDI SANTOSO", "active", "pekerja_rentan", "Telanaipura", "004");
  expired.coverages = {coverage("JKK", "active", today - 90, today + 300)};
  records.insert(records.end(), {active, kampung, inactive, lost, revoked});
  demo->roster_size_ = records.size();
  for (const auto& r : records) demo->roster_uids_[r.card_no] = hexDecode(r.card_uid).value_or("");

  auto main_snapshot =
      publishAndImport(records, *root, *snapshot_key, state_dir / "bundles" / "main",
                       state_dir / "cache.db", now - 60, now + 30 * kDay, now);
  if (!main_snapshot) return std::unexpected(main_snapshot.error());
  auto stale_snapshot =
      publishAndImport({stale}, *root, *snapshot_key, state_dir / "bundles" / "stale",
                       state_dir / "stale.db", now - 3 * kDay, now + 27 * kDay, now);
  if (!stale_snapshot) return std::unexpected(stale_snapshot.error());
  // Signed 60 days ago, expired 30 days ago: imported as of the day it was fresh.
  auto expired_snapshot = publishAndImport(
      {expired}, *root, *snapshot_key, state_dir / "bundles" / "expired", state_dir / "expired.db",
      now - 60 * kDay, now - 30 * kDay, now - 60 * kDay + 3600);
  if (!expired_snapshot) return std::unexpected(expired_snapshot.error());

  cache::CacheOptions cache_options;
  cache_options.freshness = policy;
  cache_options.profile = roster::Profile::Kiosk;
  demo->main_ = std::make_unique<cache::Cache>(
      cache::Cache::open(state_dir / "cache.db", *root, now, cache_options));
  demo->stale_ = std::make_unique<cache::Cache>(
      cache::Cache::open(state_dir / "stale.db", *root, now, cache_options));
  demo->expired_ = std::make_unique<cache::Cache>(
      cache::Cache::open(state_dir / "expired.db", *root, now, cache_options));
  demo->main_source_ = std::make_unique<kiosk::CacheSource>(*demo->main_, state_dir / "cache.db");
  // Genuine scenario cards that are in no main-roster record (answered from another
  // cache, or not in the data at all) still get a stable chip UID.
  for (const auto& scenario : scenarios())
    if (scenario.chip == ChipKind::Genuine)
      demo->roster_uids_.try_emplace(std::string(scenario.card_no), uidFor(scenario.card_no));

  // Card images, made with the card library as `kbctl card encode` makes them.
  for (const auto& scenario : scenarios()) {
    auto image = demo->makeImage(scenario, *rogue_key);
    if (!image) return std::unexpected(image.error());
    demo->cards_.push_back({&scenario, std::move(*image)});
  }

  nlohmann::json marker = {
      {"dev", true},
      {"created_at", formatUtc(now)},
      {"note", "Kartu Bahagia demo state: DEV keys and synthetic data only. Safe to delete."}};
  if (auto r = writeFileAtomic(state_dir / "demo.json", marker.dump(2) + "\n"); !r)
    return std::unexpected(r.error());
  (void)writeFileAtomic(
      state_dir / "README-DEV.txt",
      "Everything here is DEMO/DEV material made by `kartu-bahagiad --demo`:\n"
      "keys/DEV-*.key must never sign real data or cards. Delete the directory at will.\n");
  return demo;
}

Result<reader::CardImage> Demo::makeImage(const Scenario& scenario,
                                          const crypto::SigningKey& rogue_key) const {
  switch (scenario.chip) {
    case ChipKind::Genuine:
      return imageFor(scenario.card_no, std::nullopt);
    case ChipKind::Clone:
      return imageFor(scenario.of, hexEncode(uidFor(scenario.card_no)));
    case ChipKind::Forged: {
      auto uid = uidFor(scenario.card_no);
      auto cred = card::issueCredential(rogue_key, scenario.card_no, uid, dayOf(nowSeconds()) - 30);
      if (!cred) return std::unexpected(cred.error());
      auto pages = card::encodeCardImage(reader::Chip::Ntag213, uid, *cred);
      if (!pages) return std::unexpected(pages.error());
      auto sig = nxp_key_->sign(uid);
      return reader::CardImage{uid, reader::Chip::Ntag213, *pages,
                               sig ? std::optional(*sig) : std::nullopt};
    }
    case ChipKind::Blank: {
      auto uid = uidFor(scenario.card_no);
      auto pages = card::blankCardImage(reader::Chip::Ntag213, uid);
      if (!pages) return std::unexpected(pages.error());
      return reader::CardImage{uid, reader::Chip::Ntag213, *pages, std::nullopt};
    }
    case ChipKind::Pulled: {
      auto image = imageFor(scenario.of, std::nullopt);
      // Only the first pages answer, as when the card leaves the field mid-read.
      if (image) image->pages.resize(7 * 4);
      return image;
    }
  }
  return fail(Errc::Internal, "unknown demo chip kind");
}

Result<reader::CardImage> Demo::imageFor(std::string_view card_no,
                                         const std::optional<std::string>& uid_hex) const {
  auto it = roster_uids_.find(card_no);
  if (it == roster_uids_.end()) return fail(Errc::NotFound, "not a demo card");
  std::string uid = it->second.size() == card::kUidSize ? it->second : uidFor(card_no);
  auto cred = card::issueCredential(*card_key_, card_no, uid, dayOf(nowSeconds()) - 30);
  if (!cred) return std::unexpected(cred.error());
  std::string chip_uid = uid;
  if (uid_hex) {
    auto raw = hexDecode(*uid_hex);
    if (!raw || raw->size() != card::kUidSize)
      return fail(Errc::Malformed, "uid must be 14 hex digits");
    chip_uid = *raw;
  }
  // A clone carries the original's credential and the original chip's originality signature.
  auto pages = card::formatCardImage(reader::Chip::Ntag213, chip_uid, card::credentialArea(*cred));
  if (!pages) return std::unexpected(pages.error());
  auto sig = nxp_key_->sign(uid);
  return reader::CardImage{chip_uid, reader::Chip::Ntag213, *pages,
                           sig ? std::optional(*sig) : std::nullopt};
}

nlohmann::json Demo::cards() const {
  auto list = nlohmann::json::array();
  for (const auto& c : cards_) {
    const Scenario& s = *c.scenario;
    list.push_back(
        {{"card_no", s.card_no},
         {"uid", hexEncode(c.image.uid)},
         {"label", s.label},
         {"expected_verdict", s.expected},
         {"screen", s.screen},
         {"error", s.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.error)}});
  }
  return list;
}

Result<void> Demo::tap(std::string_view card_no, const std::optional<std::string>& uid_hex) {
  auto special = std::find_if(cards_.begin(), cards_.end(),
                              [&](const Card& c) { return c.scenario->card_no == card_no; });
  if (special != cards_.end() && !uid_hex) {
    sim_.tap(special->image);
    return {};
  }
  auto image = imageFor(card_no, uid_hex);
  if (!image) return std::unexpected(image.error());
  sim_.tap(std::move(*image));
  return {};
}

void Demo::remove() {
  sim_.remove();
}

kiosk::Lookup Demo::lookup(std::string_view card_no, UnixSeconds now) {
  const Scenario* scenario = findScenario(card_no);
  switch (scenario ? scenario->answer : Answer::Main) {
    case Answer::Main:
      break;
    case Answer::Stale:
      return {stale_->lookup(card_no, now), false};
    case Answer::Expired:
      return {expired_->lookup(card_no, now), false};
    case Answer::NoData:
      return {std::nullopt, true};
  }
  return main_source_->lookup(card_no, now);
}

kiosk::DataStatus Demo::status(UnixSeconds now) {
  return main_source_->status(now);
}

}  // namespace kb::demo
