#include "trust/trust.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "trust/errors.h"

namespace kb::trust {
namespace {

using nlohmann::json;
constexpr UnixSeconds kNow = 1795236727;  // 2026-11-21T04:52:07Z

crypto::SigningKey newKey() {
  return crypto::SigningKey::generate().value();
}

struct Keys {
  crypto::SigningKey r1 = newKey(), r2 = newKey(), r3 = newKey(), snap = newKey(), card = newKey();
};

RootSpec spec(const Keys& k, int root_threshold = 2) {
  RootSpec s;
  s.expires = kNow + 86400;
  s.root_threshold = root_threshold;
  s.root_keys = {k.r1.publicKey(), k.r2.publicKey()};
  s.snapshot_keys = {k.snap.publicKey()};
  s.card_keys = {k.card.publicKey()};
  return s;
}

// A document signed by `signers`, as a publisher would write it.
SignedDocument signedBy(const std::vector<crypto::SigningKey>& signers) {
  return parseSigned(signDocument(json{{"serial", 7}}, signers)).value();
}

TEST(TrustRoot, AcceptsRootSignedByThresholdOfItsKeys) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow);
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(root->version(), 1);
  EXPECT_EQ(root->role(Role::Root).threshold, 2);
}

TEST(TrustRoot, RejectsRootBelowItsOwnThreshold) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1}), kNow);
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, TrustErrc::ThresholdNotMet);
}

TEST(TrustRoot, RejectsExpiredRoot) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow + 2 * 86400);
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, TrustErrc::RootExpired);
}

TEST(TrustRoot, RejectsEditedRoot) {
  Keys k;
  std::string text = makeRoot(spec(k), {k.r1, k.r2});
  auto pos = text.find("\"threshold\": 1");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 14, "\"threshold\": 0");
  EXPECT_EQ(TrustRoot::parse(text, kNow).error().code, Errc::Malformed);
  // An attacker who adds their own snapshot key breaks the root signatures.
  json doc = json::parse(makeRoot(spec(k), {k.r1, k.r2}));
  auto evil = newKey().publicKey();
  doc["signed"]["keys"][evil.keyId()] = {{"alg", "ed25519"}, {"public", base64Encode(evil.raw())}};
  doc["signed"]["roles"]["snapshot"]["keyids"].push_back(evil.keyId());
  EXPECT_EQ(TrustRoot::parse(doc.dump(), kNow).error().code, TrustErrc::BadSignature);
}

TEST(TrustRoot, CardRoleThresholdIsOne) {
  Keys k;
  RootSpec s = spec(k);
  s.card_keys.push_back(newKey().publicKey());
  s.card_threshold = 2;
  EXPECT_EQ(TrustRoot::parse(makeRoot(s, {k.r1, k.r2}), kNow).error().code, Errc::Malformed);
}

TEST(TrustRoot, RejectsKeyIdThatDoesNotMatchKey) {
  Keys k;
  json doc = json::parse(makeRoot(spec(k), {k.r1, k.r2}));
  auto& keys = doc["signed"]["keys"];
  std::string id = keys.begin().key();
  keys["00000000000000000000000000000000"] = keys[id];
  keys.erase(id);
  EXPECT_EQ(TrustRoot::parse(doc.dump(), kNow).error().code, Errc::Malformed);
}

TEST(Verify, ThresholdOfRoleKeys) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow).value();
  EXPECT_TRUE(root.verify(Role::Snapshot, signedBy({k.snap})));
  // A card key cannot sign snapshots, even though the root lists it.
  EXPECT_EQ(root.verify(Role::Snapshot, signedBy({k.card})).error().code, TrustErrc::UnknownKey);
  EXPECT_EQ(root.verify(Role::Snapshot, signedBy({newKey()})).error().code, TrustErrc::UnknownKey);
  EXPECT_EQ(root.verify(Role::Root, signedBy({k.r1})).error().code, TrustErrc::ThresholdNotMet);
  EXPECT_TRUE(root.verify(Role::Root, signedBy({k.r1, k.r2})));
}

TEST(Verify, BadSignature) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow).value();
  auto doc = signedBy({k.snap});
  doc.body["serial"] = 8;
  doc.canonical = canonicalJson(doc.body);
  EXPECT_EQ(root.verify(Role::Snapshot, doc).error().code, TrustErrc::BadSignature);
}

TEST(Verify, DuplicateSignatureIsNeverCountedTwice) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow).value();
  auto doc = signedBy({k.r1});
  doc.signatures.push_back(doc.signatures.front());  // threshold 2 "met" by one key twice
  EXPECT_EQ(root.verify(Role::Root, doc).error().code, TrustErrc::DuplicateSignature);
}

TEST(Verify, RejectsFloatsAndMissingParts) {
  EXPECT_EQ(parseSigned(R"({"signed":{"x":1.5},"signatures":[]})").error().code, Errc::Malformed);
  EXPECT_EQ(parseSigned(R"({"signed":{}})").error().code, Errc::Malformed);
  EXPECT_EQ(parseSigned(R"({"signed":{},"signatures":[{"keyid":"a","sig":"AAAA"}]})").error().code,
            Errc::Malformed);
  EXPECT_EQ(parseSigned("not json").error().code, Errc::Malformed);
}

TEST(Rotation, NextRootNeedsOldAndNewThresholds) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow).value();
  RootSpec next = spec(k);
  next.version = 2;
  next.root_keys = {k.r2.publicKey(), k.r3.publicKey()};
  // Old r1+r2 and new r2+r3: accepted.
  auto ok = root.update(makeRoot(next, {k.r1, k.r2, k.r3}), kNow);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->version(), 2);
  // Only the new keys: the old root never agreed.
  EXPECT_EQ(root.update(makeRoot(next, {k.r2, k.r3}), kNow).error().code,
            TrustErrc::ThresholdNotMet);
  // Only the old keys: the new root is not self-signed by its threshold.
  EXPECT_EQ(root.update(makeRoot(next, {k.r1, k.r2}), kNow).error().code,
            TrustErrc::ThresholdNotMet);
}

TEST(Rotation, RejectsOlderOrSameVersionAndSkips) {
  Keys k;
  auto root = TrustRoot::parse(makeRoot(spec(k), {k.r1, k.r2}), kNow).value();
  EXPECT_EQ(root.update(makeRoot(spec(k), {k.r1, k.r2}), kNow).error().code, TrustErrc::Rollback);
  RootSpec skip = spec(k);
  skip.version = 3;
  EXPECT_EQ(root.update(makeRoot(skip, {k.r1, k.r2}), kNow).error().code, Errc::Malformed);
}

// A manifest or root comes from an untrusted mirror and is parsed before any
// signature is checked: nesting deep enough to exhaust the stack in a recursive
// walk (requireIntegersOnly, dump) must be refused, not crash the process.
TEST(Verify, RejectsDeeplyNestedDocumentWithoutCrashing) {
  const std::size_t depth = 400000;  // fits the 1 MiB manifest limit
  std::string text = R"({"signed":{"x":)" + std::string(depth, '[') + std::string(depth, ']') +
                     R"(},"signatures":[]})";
  auto doc = parseSigned(text);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Errc::Malformed);
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(
      parseSigned(R"({"signed":{"x":")" + std::string(1000, '[') + R"("},"signatures":[]})"));
}

// A root (or a rotated next root from a mirror, parsed before its signatures)
// with a field of the wrong JSON type is MALFORMED; nlohmann's value() would throw.
TEST(TrustRoot, WrongFieldTypesAreMalformedNotExceptions) {
  Keys k;
  const json good = json::parse(makeRoot(spec(k), {k.r1, k.r2}));
  auto root = TrustRoot::parse(good.dump(), kNow).value();
  auto edited = [&](auto edit) {
    json doc = good;
    edit(doc["signed"]);
    return doc.dump();
  };
  const std::string cases[] = {
      edited([](json& b) { b["type"] = 5; }),
      edited([](json& b) { b["dev"] = "yes"; }),
      edited([](json& b) { b["keys"].begin().value()["alg"] = 25519; }),
  };
  for (const auto& text : cases) {
    Result<TrustRoot> parsed = fail(Errc::Internal, "not run");
    EXPECT_NO_THROW(parsed = TrustRoot::parse(text, kNow));
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, Errc::Malformed);
    Result<TrustRoot> next = fail(Errc::Internal, "not run");
    EXPECT_NO_THROW(next = root.update(text, kNow));
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error().code, Errc::Malformed);
  }
}

// 2^32 + 1 must not wrap to a threshold (or version) of 1.
TEST(TrustRoot, RejectsThresholdAndVersionBeyondIntRange) {
  Keys k;
  auto body = json::parse(makeRoot(spec(k), {k.r1, k.r2}))["signed"];
  const std::int64_t wraps_to_one = (std::int64_t{1} << 32) + 1;
  json t = body;
  t["roles"]["root"]["threshold"] = wraps_to_one;
  auto parsed = TrustRoot::parse(signDocument(t, {k.r1, k.r2}), kNow);
  ASSERT_FALSE(parsed) << "threshold read as " << parsed->role(Role::Root).threshold;
  EXPECT_EQ(parsed.error().code, Errc::Malformed);
  json v = body;
  v["version"] = wraps_to_one;
  auto versioned = TrustRoot::parse(signDocument(v, {k.r1, k.r2}), kNow);
  ASSERT_FALSE(versioned) << "version read as " << versioned->version();
  EXPECT_EQ(versioned.error().code, Errc::Malformed);
}

}  // namespace
}  // namespace kb::trust
