#include "fixtures.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cache/digest.h"
#include "cache/record_codec.h"

namespace kb::cache::testing {

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "kb-cache-XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Keys makeKeys() {
  auto gen = [] { return crypto::SigningKey::generate().value(); };
  return Keys{gen(), gen(), gen(), gen()};
}

std::string rootText(const Keys& keys, UnixSeconds expires, int snapshot_threshold) {
  trust::RootSpec spec;
  spec.version = 1;
  spec.expires = expires;
  spec.dev = true;
  spec.root_keys = {keys.root.publicKey()};
  spec.snapshot_keys = {keys.snapshot.publicKey(), keys.snapshot2.publicKey()};
  spec.card_keys = {keys.stranger.publicKey()};  // listed, but not for snapshots
  spec.snapshot_threshold = snapshot_threshold;
  return trust::makeRoot(spec, {keys.root});
}

trust::TrustRoot makeRoot(const Keys& keys, UnixSeconds now, int snapshot_threshold) {
  return trust::TrustRoot::parse(rootText(keys, now + 365 * kDay, snapshot_threshold), now).value();
}

std::string cardNo(std::uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "KB-%09llu", static_cast<unsigned long long>(i));
  return buf;
}

roster::CardRecord syntheticCard(std::uint64_t i, std::uint64_t variant) {
  static const std::array<const char*, 5> kKelurahan = {
      "Telanaipura", "Simpang IV Sipin", "Pematang Sulur", "Buluran Kenali", "Teluk Kenali"};
  static const std::array<const char*, 4> kCategories = {"pekerja_rentan", "petugas_keagamaan",
                                                         "ketua_rt", "kader"};
  static const std::array<const char*, 4> kHolders = {"SIT* NUR*******", "MUH****** RIZ**",
                                                      "AHM** FAU***", "DEW* LES****"};
  roster::CardRecord r;
  r.card_no = cardNo(i);
  char uid[16];
  std::snprintf(uid, sizeof uid, "04%06llx",
                static_cast<unsigned long long>((i * 2654435761u) & 0xffffff));
  r.card_uid = uid;
  r.status = i % 53 == 7 ? "revoked" : "active";
  if (variant % 2 == 1 && i % 7 == 0) r.status = r.status == "active" ? "lost" : "active";
  r.holder = kHolders[i % kHolders.size()];
  r.category = kCategories[i % kCategories.size()];
  r.occupation = i % 3 == 0 ? "ojek online" : "";
  r.kecamatan = "Telanaipura";
  r.kelurahan = kKelurahan[i % kKelurahan.size()];
  char rt[8];
  std::snprintf(rt, sizeof rt, "%03llu", static_cast<unsigned long long>(i % 40 + 1));
  r.rt = rt;
  if (i % 11 != 5) {  // some cards have no coverage at all
    roster::Coverage jkk;
    jkk.program = "JKK";
    jkk.status = "active";
    jkk.valid_from = "2026-01-01";
    jkk.valid_to = variant >= 2 && i % 5 == 0 ? "2026-06-30" : "2026-12-31";
    jkk.funder = "APBD Kota Jambi";
    jkk.legal_basis = "Perwal Jambi No. 14 Tahun 2025";
    jkk.activity = "Gotong royong Kampung Bahagia";
    jkk.sk_rt_no = "SK-RT/012/2026";
    roster::Coverage jkm = jkk;
    jkm.program = "JKM";
    jkm.status = i % 13 == 3 ? "ended" : "active";
    jkm.activity.clear();
    jkm.sk_rt_no.clear();
    r.coverages = {jkk, jkm};
  }
  return r;
}

std::vector<roster::CardRecord> syntheticCards(std::uint64_t n, std::uint64_t variant) {
  std::vector<roster::CardRecord> out;
  out.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) out.push_back(syntheticCard(i, variant));
  return out;
}

Parts snapshotParts(const std::vector<roster::CardRecord>& cards, std::int64_t serial,
                    UnixSeconds signed_at, UnixSeconds expires_at) {
  Parts p;
  p.spec.type = BundleType::Snapshot;
  p.spec.serial = serial;
  p.spec.signed_at = signed_at;
  p.spec.expires_at = expires_at;
  p.spec.record_count = cards.size();
  p.spec.bucket_count = bucketCountFor(cards.size());
  struct Item {
    std::uint32_t bucket;
    std::string card_no, json;
  };
  std::vector<Item> items;
  for (const auto& c : cards)
    items.push_back({bucketOf(c.card_no, p.spec.bucket_count), c.card_no, encodeRecord(c)});
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.bucket, a.card_no) < std::tie(b.bucket, b.card_no);
  });
  BucketDigester d(p.spec.bucket_count);
  for (auto& i : items) {
    d.add(i.bucket, i.json);
    p.entries.push_back(std::move(i.json));
  }
  p.spec.content_digest = stateDigest(d.finish());
  return p;
}

std::string build(const Parts& parts, const std::vector<crypto::SigningKey>& keys) {
  return bundleBytes(signManifest(parts.spec, parts.entries, keys), parts.entries);
}

std::string build(std::string_view manifest, const std::vector<std::string>& entries) {
  return bundleBytes(manifest, entries);
}

void writeFile(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void tamper(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

}  // namespace kb::cache::testing
