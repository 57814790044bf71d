// Bundle reading and verification: each rejection has its own code.

#include "cache/bundle.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cache/digest.h"
#include "cache/record_codec.h"
#include "common/encoding.h"
#include "fixtures.h"
#include "trust/trust.h"

namespace kb::cache {
namespace {

using namespace testing;

class BundleTest : public ::testing::Test {
 protected:
  Keys keys = makeKeys();
  trust::TrustRoot root = makeRoot(keys);
  std::vector<roster::CardRecord> cards = syntheticCards(100);
  Parts parts = snapshotParts(cards, 5, kNow - kDay, kNow + 30 * kDay);

  Result<Manifest> read(std::string_view bytes, UnixSeconds now = kNow, ReadOptions options = {}) {
    auto src = memorySource(bytes);
    return readBundle(*src, root, now, options);
  }
  static Errc code(const Result<Manifest>& r) { return r ? Errc::Internal : r.error().code; }

  // The envelope of `bytes`' manifest, to edit signatures.
  nlohmann::json envelope(const std::string& manifest) { return nlohmann::json::parse(manifest); }
};

TEST_F(BundleTest, GoodSnapshotVerifiesAndStreamsEveryEntryInOrder) {
  std::string bytes = build(parts, {keys.snapshot});
  std::vector<std::string> seen;
  auto src = memorySource(bytes);
  auto m = readBundle(*src, root, kNow, {}, [&](const Entry& e) -> Result<void> {
    EXPECT_EQ(e.bucket, bucketOf(e.card_no, 8));
    seen.emplace_back(e.card_no);
    return {};
  });
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->serial, 5);
  EXPECT_EQ(m->record_count, 100u);
  EXPECT_EQ(m->bucket_count, 8u);  // 100/16 -> 6 -> next power of two
  EXPECT_EQ(m->keyids, std::vector<std::string>{keys.snapshot.publicKey().keyId()});
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(BundleTest, BadSignature) {
  std::string manifest = signManifest(parts.spec, parts.entries, {keys.snapshot});
  auto env = envelope(manifest);
  auto sig = base64Decode(env["signatures"][0]["sig"].get<std::string>()).value();
  sig[10] = static_cast<char>(sig[10] ^ 1);
  env["signatures"][0]["sig"] = base64Encode(sig);
  EXPECT_EQ(code(read(build(env.dump(), parts.entries))), Errc::BadSignature);
}

TEST_F(BundleTest, EditedManifestFieldBreaksTheSignature) {
  std::string manifest = signManifest(parts.spec, parts.entries, {keys.snapshot});
  auto env = envelope(manifest);
  env["signed"]["expires_at"] = formatUtc(kNow + 3000 * kDay);
  EXPECT_EQ(code(read(build(env.dump(), parts.entries))), Errc::BadSignature);
}

TEST_F(BundleTest, UnknownKey) {
  EXPECT_EQ(code(read(build(parts, {keys.stranger}))), Errc::UnknownKey);
  EXPECT_EQ(code(read(build(parts, {keys.root}))),
            Errc::UnknownKey);  // a root key is not a snapshot key
}

TEST_F(BundleTest, ThresholdNotMet) {
  root = makeRoot(keys, kNow, /*snapshot_threshold=*/2);
  EXPECT_EQ(code(read(build(parts, {keys.snapshot}))), Errc::ThresholdNotMet);
  EXPECT_TRUE(read(build(parts, {keys.snapshot, keys.snapshot2})));
}

TEST_F(BundleTest, DuplicateSignatureIsNotCountedTwice) {
  root = makeRoot(keys, kNow, 2);
  auto env = envelope(signManifest(parts.spec, parts.entries, {keys.snapshot}));
  env["signatures"].push_back(env["signatures"][0]);
  EXPECT_EQ(code(read(build(env.dump(), parts.entries))), Errc::DuplicateSignature);
}

TEST_F(BundleTest, ExpiredSnapshot) {
  std::string bytes = build(parts, {keys.snapshot});
  EXPECT_TRUE(read(bytes, parts.spec.expires_at));
  EXPECT_EQ(code(read(bytes, parts.spec.expires_at + 1)), Errc::Expired);
}

TEST_F(BundleTest, ExpiredRootIsRefusedWhenLoaded) {
  std::string text = rootText(keys, kNow - 1);
  auto r = trust::TrustRoot::parse(text, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::RootExpired);
}

TEST_F(BundleTest, MixAndMatchBodyIsDigestMismatch) {
  // Same length, different content: only the digests can tell.
  Parts other = snapshotParts(syntheticCards(100, /*variant=*/2), 6, kNow - kDay, kNow + 30 * kDay);
  std::string a_manifest = signManifest(parts.spec, parts.entries, {keys.snapshot});
  std::string b = build(a_manifest, other.entries);
  ASSERT_EQ(b.size(), build(parts, {keys.snapshot}).size());
  auto r = read(b);
  EXPECT_EQ(code(r), Errc::DigestMismatch) << r.error().message;
}

TEST_F(BundleTest, SignedContentDigestMustMatchEntries) {
  Parts p = parts;
  p.spec.content_digest = crypto::sha256("something else");
  EXPECT_EQ(code(read(build(p, {keys.snapshot}))), Errc::DigestMismatch);
  ReadOptions no_digest;
  no_digest.check_content_digest = false;  // import checks it later, from the stored rows
  EXPECT_TRUE(read(build(p, {keys.snapshot}), kNow, no_digest));
}

TEST_F(BundleTest, TruncatedAnywhere) {
  std::string bytes = build(parts, {keys.snapshot});
  for (std::size_t cut :
       {std::size_t{3}, std::size_t{7}, std::size_t{200}, bytes.size() - 4000, bytes.size() - 1}) {
    auto r = read(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(code(r), Errc::Truncated) << "cut at " << cut;
  }
}

TEST_F(BundleTest, OversizeInput) {
  std::string bytes = build(parts, {keys.snapshot});
  ReadOptions small;
  small.limits.max_bundle_bytes = bytes.size() - 1;
  EXPECT_EQ(code(read(bytes, kNow, small)), Errc::TooLarge);
  // Endless data after the declared body.
  EXPECT_EQ(code(read(bytes + std::string(100, 'x'))), Errc::TooLarge);
  // A manifest length beyond the limit is refused before it is read.
  std::string huge = bytes;
  huge[5] = '\x7f';
  EXPECT_EQ(code(read(huge)), Errc::TooLarge);
  // One entry beyond the entry limit.
  ReadOptions tiny_entries;
  tiny_entries.limits.max_entry_bytes = 100;
  EXPECT_EQ(code(read(bytes, kNow, tiny_entries)), Errc::TooLarge);
}

TEST_F(BundleTest, Malformed) {
  std::string bytes = build(parts, {keys.snapshot});
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_EQ(code(read(bad_magic)), Errc::Malformed);
  EXPECT_EQ(code(read("hello")), Errc::Malformed);
  std::string not_json = build("{not json", parts.entries);
  EXPECT_EQ(code(read(not_json)), Errc::Malformed);

  Parts unsorted = parts;
  std::swap(unsorted.entries[0], unsorted.entries[50]);  // signed, but out of order
  EXPECT_EQ(code(read(build(unsorted, {keys.snapshot}))), Errc::Malformed);

  Parts dup = parts;
  dup.entries[1] = dup.entries[0];
  EXPECT_EQ(code(read(build(dup, {keys.snapshot}))), Errc::Malformed);

  Parts spaced = parts;
  spaced.entries[0].insert(1, " ");  // valid JSON, not canonical
  EXPECT_EQ(code(read(build(spaced, {keys.snapshot}))), Errc::Malformed);
}

TEST_F(BundleTest, KioskBundleMayNotCarryStaffFields) {
  auto leaky = cards;
  leaky[3].nik_hash = std::string(64, 'a');
  leaky[3].nik_last4 = "1234";
  Parts p = snapshotParts(leaky, 5, kNow - kDay, kNow + 30 * kDay);
  auto r = read(build(p, {keys.snapshot}));
  EXPECT_EQ(code(r), Errc::Malformed);
  p.spec.profile = roster::Profile::Staff;
  EXPECT_TRUE(read(build(p, {keys.snapshot})));
}

TEST_F(BundleTest, EmptySnapshotIsValid) {
  Parts p = snapshotParts({}, 1, kNow - kDay, kNow + kDay);
  auto m = read(build(p, {keys.snapshot}));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->bucket_count, 1u);
}

TEST(RecordCodec, RoundTripsAndIsCanonical) {
  auto card = testing::syntheticCard(43);  // 43 % 3 != 0: no occupation
  std::string json = encodeRecord(card);
  auto back = decodeRecord(json, roster::Profile::Kiosk);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(encodeRecord(*back), json);
  EXPECT_EQ(peekCardNo(json), card.card_no);
  EXPECT_EQ(json.find("\"occupation\""), std::string::npos);  // empty fields are omitted
  EXPECT_FALSE(decodeRecord(R"({"card_no":"KB-1"})", roster::Profile::Kiosk));
}

TEST(RecordCodec, HandEncoderMatchesTheGenericCanonicalJson) {
  roster::CardRecord r = testing::syntheticCard(3);
  r.holder = "SYARA'I \"Q\" \\ / \t\n\r\b\f \x01\x1f\x7f ñ 中文 😀";
  r.occupation = "imam";
  r.coverages[0].membership_no = "0001";
  r.birth_hash = std::string(64, 'c');
  r.nik_hash = std::string(64, 'b');
  r.nik_last4 = "0042";
  nlohmann::json j = nlohmann::json::object();
  auto put = [](nlohmann::json& o, const char* k, const std::string& v) {
    if (!v.empty()) o[k] = v;
  };
  put(j, "card_no", r.card_no), put(j, "card_uid", r.card_uid), put(j, "status", r.status);
  put(j, "holder", r.holder), put(j, "category", r.category), put(j, "occupation", r.occupation);
  put(j, "kecamatan", r.kecamatan), put(j, "kelurahan", r.kelurahan), put(j, "rt", r.rt);
  put(j, "birth_hash", r.birth_hash), put(j, "nik_hash", r.nik_hash),
      put(j, "nik_last4", r.nik_last4);
  for (const auto& c : r.coverages) {
    nlohmann::json cj = nlohmann::json::object();
    put(cj, "program", c.program), put(cj, "membership_no", c.membership_no),
        put(cj, "status", c.status);
    put(cj, "valid_from", c.valid_from), put(cj, "valid_to", c.valid_to),
        put(cj, "funder", c.funder);
    put(cj, "legal_basis", c.legal_basis), put(cj, "activity", c.activity),
        put(cj, "sk_rt_no", c.sk_rt_no);
    j["coverages"].push_back(cj);
  }
  std::string mine = encodeRecord(r);
  EXPECT_EQ(mine, trust::canonicalJson(j));
  auto back = decodeRecord(mine, roster::Profile::Staff);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->holder, r.holder);
  EXPECT_EQ(encodeRecord(*back), mine);
  EXPECT_FALSE(decodeRecord(mine, roster::Profile::Kiosk));  // staff fields on a kiosk
}

TEST(RecordCodec, RejectsEverythingButTheCanonicalForm) {
  std::string good = encodeRecord(testing::syntheticCard(43));
  ASSERT_TRUE(decodeRecord(good, roster::Profile::Kiosk));
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return s.replace(pos, from.size(), to);
  };
  const std::vector<std::string> bad = {
      replaced("\"card_no\":", "\"card_no\" :"),               // whitespace
      replaced("Telanaipura", "Telana\\u0069pura"),            // needless escape
      replaced("Telanaipura", "Telana\\/ipura"),               // escaped slash
      replaced("Telanaipura", "Telana\xc3ipura"),              // broken UTF-8
      replaced("Telanaipura", "Telana\xc0\xafipura"),          // overlong UTF-8
      replaced("Telanaipura", "Telana\x01ipura"),              // raw control character
      replaced("{\"card_no\"", "{\"zz\":\"x\",\"card_no\""),   // keys out of order
      replaced("\"card_no\":", "\"aaa\":\"x\",\"card_no\":"),  // unknown key
      replaced("\"rt\":\"", "\"rt\":\"0\",\"rt\":\""),         // duplicate key
      good + " ",
      good.substr(0, good.size() - 1),
  };
  for (const auto& b : bad) EXPECT_FALSE(decodeRecord(b, roster::Profile::Kiosk)) << b;
}

TEST(Digest, BucketGeometry) {
  EXPECT_EQ(bucketCountFor(0), 1u);
  EXPECT_EQ(bucketCountFor(31), 1u);
  EXPECT_EQ(bucketCountFor(32), 2u);
  EXPECT_EQ(bucketCountFor(1'000'000), 65536u);
  // SHA-256("KB-000000001") starts 0x..: the bucket is its top bits masked.
  std::string h = crypto::sha256("KB-000000001");
  std::uint32_t top = (static_cast<std::uint32_t>(static_cast<unsigned char>(h[2])) << 8) |
                      static_cast<unsigned char>(h[3]);
  EXPECT_EQ(bucketOf("KB-000000001", 65536), top);
  BucketDigester d(4);
  d.add(2, "x");
  auto digests = d.finish();
  ASSERT_EQ(digests.size(), 4u);
  EXPECT_EQ(digests[0], crypto::sha256(""));
  EXPECT_EQ(digests[2], crypto::sha256(std::string("\0\0\0\x01x", 5)));
}

}  // namespace
}  // namespace kb::cache
