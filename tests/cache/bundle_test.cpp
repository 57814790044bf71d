// Bundle reading and verification: each rejection has its own code.

#include "cache/bundle.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <nlohmann/json.hpp>

#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/record_codec.h"
#include "common/encoding.h"
#include "fixtures.h"
#include "trust/errors.h"
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
  static std::error_code code(const Result<Manifest>& r) {
    return r ? make_error_code(Errc::Internal) : r.error().code;
  }

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
  EXPECT_EQ(code(read(build(env.dump(), parts.entries))), TrustErrc::BadSignature);
}

TEST_F(BundleTest, EditedManifestFieldBreaksTheSignature) {
  std::string manifest = signManifest(parts.spec, parts.entries, {keys.snapshot});
  auto env = envelope(manifest);
  env["signed"]["expires_at"] = formatUtc(kNow + 3000 * kDay);
  EXPECT_EQ(code(read(build(env.dump(), parts.entries))), TrustErrc::BadSignature);
}

TEST_F(BundleTest, UnknownKey) {
  EXPECT_EQ(code(read(build(parts, {keys.stranger}))), TrustErrc::UnknownKey);
  EXPECT_EQ(code(read(build(parts, {keys.root}))),
            TrustErrc::UnknownKey);  // a root key is not a snapshot key
}

TEST_F(BundleTest, ThresholdNotMet) {
  root = makeRoot(keys, kNow, /*snapshot_threshold=*/2);
  EXPECT_EQ(code(read(build(parts, {keys.snapshot}))), TrustErrc::ThresholdNotMet);
  EXPECT_TRUE(read(build(parts, {keys.snapshot, keys.snapshot2})));
}

TEST_F(BundleTest, DuplicateSignatureIsNotCountedTwice) {
  root = makeRoot(keys, kNow, 2);
  auto env = envelope(signManifest(parts.spec, parts.entries, {keys.snapshot}));
  env["signatures"].push_back(env["signatures"][0]);
  EXPECT_EQ(code(read(build(env.dump(), parts.entries))), TrustErrc::DuplicateSignature);
}

TEST_F(BundleTest, ExpiredSnapshot) {
  std::string bytes = build(parts, {keys.snapshot});
  EXPECT_TRUE(read(bytes, parts.spec.expires_at));
  EXPECT_EQ(code(read(bytes, parts.spec.expires_at + 1)), CacheErrc::Expired);
}

TEST_F(BundleTest, ExpiredRootIsRefusedWhenLoaded) {
  std::string text = rootText(keys, kNow - 1);
  auto r = trust::TrustRoot::parse(text, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, TrustErrc::RootExpired);
}

TEST_F(BundleTest, MixAndMatchBodyIsDigestMismatch) {
  // Same length, different content: only the digests can tell.
  Parts other = snapshotParts(syntheticCards(100, /*variant=*/2), 6, kNow - kDay, kNow + 30 * kDay);
  std::string a_manifest = signManifest(parts.spec, parts.entries, {keys.snapshot});
  std::string b = build(a_manifest, other.entries);
  ASSERT_EQ(b.size(), build(parts, {keys.snapshot}).size());
  auto r = read(b);
  EXPECT_EQ(code(r), CacheErrc::DigestMismatch) << r.error().message;
}

TEST_F(BundleTest, SignedContentDigestMustMatchEntries) {
  Parts p = parts;
  p.spec.content_digest = crypto::sha256("something else");
  EXPECT_EQ(code(read(build(p, {keys.snapshot}))), CacheErrc::DigestMismatch);
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

// Compressed bodies (format 2): the same entries as one zstd stream.
class CompressedBundleTest : public BundleTest {
 protected:
  // A bundle whose manifest is signed over `stored` (any bytes), declaring
  // `decompressed` plain bytes.
  std::string signedOver(const std::string& stored, std::uint64_t decompressed) {
    BodyInfo info;
    info.compression = Compression::Zstd;
    info.entry_count = parts.entries.size();
    info.plain_bytes = decompressed;
    info.stored_bytes = stored.size();
    info.stored_sha256 = crypto::sha256(stored);
    return bundleBytes(signManifest(parts.spec, info, {keys.snapshot}), stored);
  }
  std::string plainBody() {
    BodyInfo info;
    return encodeBody(parts.entries, Compression::None, info);
  }
  static std::string zstd(std::string_view plain) {
    std::string out(ZSTD_compressBound(plain.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3));
    return out;
  }
  // Reads `bytes`, counting the entries the sink saw.
  Result<Manifest> readCounting(std::string_view bytes, std::size_t& seen, ReadOptions o = {}) {
    auto src = memorySource(bytes);
    seen = 0;
    return readBundle(*src, root, kNow, o, [&](const Entry&) -> Result<void> {
      ++seen;
      return {};
    });
  }
};

TEST_F(CompressedBundleTest, RoundTripGivesTheSameEntriesAndDigests) {
  BodyInfo info;
  std::string stored = encodeBody(parts.entries, Compression::Zstd, info);
  EXPECT_EQ(info.plain_bytes, plainBody().size());
  EXPECT_LT(info.stored_bytes * 3, info.plain_bytes);  // repeated strings compress well
  std::string bytes = bundleBytes(signManifest(parts.spec, info, {keys.snapshot}), stored);
  std::vector<std::string> seen;
  auto src = memorySource(bytes);
  auto m = readBundle(*src, root, kNow, {}, [&](const Entry& e) -> Result<void> {
    seen.emplace_back(e.json);
    return {};
  });
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->compression, Compression::Zstd);
  EXPECT_EQ(m->decompressed_bytes, info.plain_bytes);
  EXPECT_EQ(m->body_bytes, stored.size());
  EXPECT_EQ(seen, parts.entries);
  // The plain bundle of the same entries has the same content digest.
  auto plain = read(build(parts, {keys.snapshot}));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->content_digest, m->content_digest);
  EXPECT_EQ(plain->compression, Compression::None);
}

TEST_F(CompressedBundleTest, StreamedBodyFileEqualsTheInMemoryBody) {
  TempDir tmp;
  auto w = BodyWriter::create(tmp / "body", Compression::Zstd);
  ASSERT_TRUE(w);
  for (const auto& e : parts.entries) ASSERT_TRUE((*w)->add(e));
  auto info = (*w)->finish();
  ASSERT_TRUE(info);
  std::string stored = readAll(tmp / "body");
  EXPECT_EQ(info->stored_bytes, stored.size());
  EXPECT_EQ(info->stored_sha256, crypto::sha256(stored));
  ASSERT_TRUE(writeBundleFile(tmp / "b.kbs", signManifest(parts.spec, *info, {keys.snapshot}),
                              tmp / "body"));
  auto src = openFileSource(tmp / "b.kbs");
  ASSERT_TRUE(src);
  auto m = readBundle(**src, root, kNow, {});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->entry_count, parts.entries.size());
}

TEST_F(CompressedBundleTest, DeclaredSizeAboveTheLimitIsRefusedBeforeDecompressing) {
  // 64 MiB of zeros compress to a few KiB: a bomb, declared honestly.
  std::string bomb = zstd(std::string(64u << 20, '\0'));
  ASSERT_LT(bomb.size(), 64u << 10);
  ReadOptions o;
  o.limits.max_decompressed_bytes = 16u << 20;
  bool reached_body = false;
  o.on_manifest = [&](const Manifest&) -> Result<void> {
    reached_body = true;
    return {};
  };
  std::size_t seen = 0;
  auto r = readCounting(signedOver(bomb, 64u << 20), seen, o);
  EXPECT_EQ(code(r), Errc::TooLarge) << (r ? "" : r.error().message);
  EXPECT_FALSE(reached_body);
  EXPECT_EQ(seen, 0u);
}

TEST_F(CompressedBundleTest, StreamExpandingBeyondItsDeclaredSizeIsTooLarge) {
  // Signed (a publisher's bug or a stolen key): the real entries, then 64 MiB
  // of zeros in the same stream. Reading stops at the declared size.
  std::string plain = plainBody();
  std::string stored = zstd(plain + std::string(64u << 20, '\0'));
  std::size_t seen = 0;
  auto r = readCounting(signedOver(stored, plain.size()), seen);
  EXPECT_EQ(code(r), Errc::TooLarge) << (r ? "" : r.error().message);
  EXPECT_EQ(seen, parts.entries.size());  // the sink saw them; the caller discards them
}

TEST_F(CompressedBundleTest, UnsignedBombInPlaceOfTheBodyIsDigestMismatch) {
  BodyInfo info;
  std::string stored = encodeBody(parts.entries, Compression::Zstd, info);
  std::string bytes = bundleBytes(signManifest(parts.spec, info, {keys.snapshot}), stored);
  std::string bomb = zstd(std::string(64u << 20, 'A'));
  ASSERT_LT(bomb.size(), stored.size());
  bomb.resize(stored.size(), '\0');  // same length as the signed body
  std::string swapped = bytes.substr(0, bytes.size() - stored.size()) + bomb;
  EXPECT_EQ(code(read(swapped)), CacheErrc::DigestMismatch);
}

TEST_F(CompressedBundleTest, CorruptOrCutStreams) {
  BodyInfo info;
  std::string stored = encodeBody(parts.entries, Compression::Zstd, info);
  std::string bytes = bundleBytes(signManifest(parts.spec, info, {keys.snapshot}), stored);
  // A flipped byte on the wire: not the signed body.
  for (std::size_t at :
       {bytes.size() - stored.size() + 10, bytes.size() - stored.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    EXPECT_EQ(code(read(bad)), CacheErrc::DigestMismatch) << "at " << at;
  }
  // A cut file.
  EXPECT_EQ(code(read(std::string_view(bytes).substr(0, bytes.size() - 100))), Errc::Truncated);
  // Signed but broken streams (a publisher's bug): each refused as MALFORMED.
  std::string plain = plainBody();
  std::string cut = stored.substr(0, stored.size() / 2);
  EXPECT_EQ(code(read(signedOver(cut, plain.size()))), Errc::Malformed);
  std::string garbage = stored;
  garbage[garbage.size() / 2] = static_cast<char>(garbage[garbage.size() / 2] ^ 0x55);
  EXPECT_EQ(code(read(signedOver(garbage, plain.size()))), Errc::Malformed);
  EXPECT_EQ(code(read(signedOver(stored + "trailing", plain.size()))), Errc::Malformed);
  EXPECT_EQ(code(read(signedOver(zstd(plain.substr(0, plain.size() - 1)), plain.size()))),
            Errc::Malformed);  // shorter than declared
  EXPECT_EQ(code(read(signedOver("", plain.size()))), Errc::Malformed);
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

TEST(RecordCodec, ATokenOutsideTheSchemasClosedListsIsMalformed) {
  auto card = testing::syntheticCard(44);
  ASSERT_FALSE(card.coverages.empty());
  ASSERT_TRUE(decodeRecord(encodeRecord(card), roster::Profile::Kiosk));
  auto with = [&](auto change) {
    auto c = card;
    change(c);
    return decodeRecord(encodeRecord(c), roster::Profile::Kiosk);
  };
  for (auto r : {with([](roster::CardRecord& c) { c.category = "astronaut"; }),
                 with([](roster::CardRecord& c) { c.status = "borrowed"; }),
                 with([](roster::CardRecord& c) { c.coverages[0].program = "JKX"; }),
                 with([](roster::CardRecord& c) { c.coverages[0].status = "paused"; }),
                 with([](roster::CardRecord& c) { c.card_no = "kb-lower-case"; })}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::Malformed) << r.error().message;
  }
}

TEST(RecordCodec, KeyedHashesAre32HexDigitsOr64FromOlderBundles) {
  roster::CardRecord r = testing::syntheticCard(5);
  r.nik_last4 = "0042";
  auto with = [&](std::string nik_hash, std::string birth_hash) {
    auto c = r;
    c.nik_hash = std::move(nik_hash);
    c.birth_hash = std::move(birth_hash);
    return decodeRecord(encodeRecord(c), roster::Profile::Staff);
  };
  EXPECT_TRUE(with(std::string(32, 'a'), std::string(32, 'b')));  // the current form
  EXPECT_TRUE(with(std::string(64, 'a'), std::string(64, 'b')));  // before the cut
  for (auto bad : {with(std::string(31, 'a'), ""), with(std::string(33, 'a'), ""),
                   with(std::string(48, 'a'), ""), with("", std::string(40, 'b')),
                   with(std::string(32, 'A'), ""), with("", std::string(32, 'g'))}) {
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::Malformed) << bad.error().message;
  }
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
