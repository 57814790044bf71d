// timestamp.json: what it signs, and each way a kiosk refuses one.

#include "sync/timestamp.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "sync/errors.h"
#include "trust/errors.h"

namespace kb::sync {
namespace {

using cache::testing::kNow;

crypto::SigningKey newKey() {
  return *crypto::SigningKey::generate();
}

class TimestampTest : public ::testing::Test {
 protected:
  crypto::SigningKey root_key = newKey(), snap = newKey(), card = newKey(), ts_key = newKey(),
                     ts_key2 = newKey();

  trust::TrustRoot root(bool with_timestamp = true) {
    trust::RootSpec spec;
    spec.expires = kNow + 365 * 86400;
    spec.root_keys = {root_key.publicKey()};
    spec.snapshot_keys = {snap.publicKey()};
    spec.card_keys = {card.publicKey()};
    if (with_timestamp) spec.timestamp_keys = {ts_key.publicKey()};
    return *trust::TrustRoot::parse(trust::makeRoot(spec, {root_key}), kNow);
  }

  Timestamp sample() const {
    Timestamp t;
    t.serial = 7;
    t.signed_at = kNow - 60;
    t.expires_at = kNow + 3600;
    t.root_version = 1;
    t.snapshot = {snapshotName(7), 7, 0, std::string(32, 'a'), 123456};
    t.deltas = {{deltaName(6, 7), 7, 6, std::string(32, 'b'), 2345},
                {deltaName(5, 7), 7, 5, std::string(32, 'c'), 3456}};
    return t;
  }

  static std::error_code code(const Result<Timestamp>& r) {
    return r ? make_error_code(Errc::Internal) : r.error().code;
  }
};

TEST_F(TimestampTest, SignedTimestampParsesBack) {
  const std::string text = signTimestamp(sample(), {ts_key});
  auto t = parseTimestamp(text, root(), kNow, 7);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->serial, 7);
  EXPECT_EQ(t->snapshot.name, "snapshot-7.kbs");
  EXPECT_EQ(t->snapshot.length, 123456u);
  EXPECT_EQ(t->snapshot.sha256, std::string(32, 'a'));
  ASSERT_EQ(t->deltas.size(), 2u);
  EXPECT_EQ(t->deltas[0].name, "delta-6-7.kbs");
  EXPECT_EQ(t->deltas[1].base_serial, 5);
  EXPECT_EQ(t->expires_at, kNow + 3600);
  EXPECT_EQ(*peekRootVersion(text), 1);
}

TEST_F(TimestampTest, ExpiredTimestampIsFreeze) {
  const std::string text = signTimestamp(sample(), {ts_key});
  EXPECT_EQ(code(parseTimestamp(text, root(), kNow + 3601, 0)), SyncErrc::Freeze);
  EXPECT_TRUE(parseTimestamp(text, root(), kNow + 3600, 0));
}

TEST_F(TimestampTest, SerialBelowTheAcceptedOneIsRollback) {
  const std::string text = signTimestamp(sample(), {ts_key});
  EXPECT_EQ(code(parseTimestamp(text, root(), kNow, 8)), TrustErrc::Rollback);
  EXPECT_TRUE(parseTimestamp(text, root(), kNow, 7));  // the same serial: current, not refused
}

TEST_F(TimestampTest, SignatureAndThresholdAreChecked) {
  const auto r = root();
  // Signed by the snapshot key, which is not a timestamp key.
  EXPECT_EQ(code(parseTimestamp(signTimestamp(sample(), {snap}), r, kNow, 0)),
            TrustErrc::UnknownKey);
  // No signature at all.
  EXPECT_EQ(code(parseTimestamp(signTimestamp(sample(), {}), r, kNow, 0)),
            TrustErrc::ThresholdNotMet);
  // A root without a timestamp role trusts no timestamp.
  EXPECT_EQ(code(parseTimestamp(signTimestamp(sample(), {ts_key}), root(false), kNow, 0)),
            TrustErrc::UnknownKey);
  // One signed byte changed (the snapshot length) keeps the signature of the original.
  std::string text = signTimestamp(sample(), {ts_key});
  auto at = text.find("123456");
  ASSERT_NE(at, std::string::npos);
  text[at] = '9';
  EXPECT_EQ(code(parseTimestamp(text, r, kNow, 0)), TrustErrc::BadSignature);
  // The same key twice.
  auto doc = nlohmann::json::parse(signTimestamp(sample(), {ts_key}));
  doc["signatures"].push_back(doc["signatures"][0]);
  EXPECT_EQ(code(parseTimestamp(doc.dump(), r, kNow, 0)), TrustErrc::DuplicateSignature);
}

TEST_F(TimestampTest, ShapeIsChecked) {
  auto signedWith = [&](const std::function<void(nlohmann::json&)>& edit) {
    auto doc = nlohmann::json::parse(signTimestamp(sample(), {ts_key}));
    nlohmann::json body = doc["signed"];
    edit(body);
    return trust::signDocument(body, {ts_key});
  };
  const auto r = root();
  EXPECT_EQ(code(parseTimestamp(signedWith([](auto& b) { b["type"] = "kartu-bahagia/root"; }), r,
                                kNow, 0)),
            Errc::Malformed);
  EXPECT_EQ(code(parseTimestamp(signedWith([](auto& b) { b["extra"] = 1; }), r, kNow, 0)),
            Errc::Malformed);
  EXPECT_EQ(
      code(parseTimestamp(signedWith([](auto& b) { b["snapshot"]["serial"] = 6; }), r, kNow, 0)),
      Errc::Malformed);
  EXPECT_EQ(code(parseTimestamp(signedWith([](auto& b) { b["deltas"][0]["base_serial"] = 7; }), r,
                                kNow, 0)),
            Errc::Malformed);
  EXPECT_EQ(code(parseTimestamp(signedWith([](auto& b) { b["snapshot"]["sha256"] = "abc"; }), r,
                                kNow, 0)),
            Errc::Malformed);
  EXPECT_EQ(
      code(parseTimestamp(signedWith([](auto& b) { b["snapshot"]["length"] = 0; }), r, kNow, 0)),
      Errc::Malformed);
  // Signed for root version 2 but checked with version 1: the chain was not walked.
  EXPECT_EQ(code(parseTimestamp(signedWith([](auto& b) { b["root_version"] = 2; }), r, kNow, 0)),
            Errc::Malformed);
  EXPECT_EQ(code(parseTimestamp("not json", r, kNow, 0)), Errc::Malformed);
}

}  // namespace
}  // namespace kb::sync
