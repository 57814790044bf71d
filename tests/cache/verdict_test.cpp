// The pure verdict and freshness rules (docs/contracts.md §3).

#include "cache/verdict.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace kb::cache {
namespace {

using testing::kDay;
using testing::kNow;

constexpr UnixSeconds kHour = 3600;

class VerdictTest : public ::testing::Test {
 protected:
  FreshnessPolicy policy = freshnessPolicy(48, 7);  // soft age 48 h, grace 7 days, WIB dates
  SnapshotInfo snap{9, kNow - kHour, kNow + 14 * kDay};

  static roster::CardRecord card(std::string status, std::vector<roster::Coverage> coverages) {
    roster::CardRecord c = testing::syntheticCard(1);
    c.status = std::move(status);
    c.coverages = std::move(coverages);
    return c;
  }
  static roster::Coverage coverage(std::string status, std::string from, std::string to) {
    roster::Coverage c;
    c.program = "JKK";
    c.status = std::move(status);
    c.valid_from = std::move(from);
    c.valid_to = std::move(to);
    c.funder = "APBD Kota Jambi";
    return c;
  }
};

TEST_F(VerdictTest, ActiveNeedsAnActiveCardAndOneCoverageActiveToday) {
  auto v = decide(card("active", {coverage("ended", "2025-01-01", "2025-12-31"),
                                  coverage("active", "2026-01-01", "2026-12-31")}),
                  snap, kNow, policy);
  EXPECT_EQ(v.verdict, VerdictCode::Active);
  EXPECT_EQ(v.active_today, (std::vector<bool>{false, true}));
  EXPECT_EQ(v.freshness, Freshness::Fresh);
  EXPECT_EQ(v.age_seconds, kHour);
}

TEST_F(VerdictTest, InactiveWhenNoCoverageIsActiveToday) {
  EXPECT_EQ(decide(card("active", {}), snap, kNow, policy).verdict, VerdictCode::Inactive);
  EXPECT_EQ(
      decide(card("active", {coverage("inactive", "2026-01-01", "2026-12-31")}), snap, kNow, policy)
          .verdict,
      VerdictCode::Inactive);
  EXPECT_EQ(
      decide(card("active", {coverage("active", "2026-11-22", "2026-12-31")}), snap, kNow, policy)
          .verdict,
      VerdictCode::Inactive);  // starts tomorrow
  EXPECT_EQ(
      decide(card("active", {coverage("active", "2026-01-01", "2026-11-20")}), snap, kNow, policy)
          .verdict,
      VerdictCode::Inactive);  // ended yesterday
}

TEST_F(VerdictTest, CoverageDatesAreInclusiveLocalDays) {
  auto today = coverage("active", "2026-11-21", "2026-11-21");
  EXPECT_TRUE(coverageActive(today, kNow, policy));  // 07:00 WIB on the 21st
  // 17:00 UTC on the 21st is already 00:00 WIB on the 22nd.
  EXPECT_FALSE(coverageActive(today, kNow + 17 * kHour, policy));
  EXPECT_TRUE(coverageActive(today, kNow + 17 * kHour - 1, policy));
  FreshnessPolicy utc = policy;
  utc.utc_offset = 0;
  EXPECT_TRUE(coverageActive(today, kNow + 17 * kHour, utc));
}

TEST_F(VerdictTest, BlockedCardsStayBlockedWhateverTheirCoverage) {
  for (const char* s : {"suspended", "lost", "revoked"})
    EXPECT_EQ(decide(card(s, {coverage("active", "2026-01-01", "2026-12-31")}), snap, kNow, policy)
                  .verdict,
              VerdictCode::Blocked)
        << s;
}

TEST_F(VerdictTest, NotFound) {
  auto v = decide(std::nullopt, snap, kNow, policy);
  EXPECT_EQ(v.verdict, VerdictCode::NotFound);
  EXPECT_TRUE(toJson(v)["card"].is_null());
}

TEST_F(VerdictTest, FreshnessBoundaries) {
  SnapshotInfo s{1, kNow, kNow + 10 * kDay};
  EXPECT_EQ(freshnessAt(s, kNow + 48 * kHour, policy), Freshness::Fresh);
  EXPECT_EQ(freshnessAt(s, kNow + 48 * kHour + 1, policy), Freshness::Stale);
  SnapshotInfo short_lived{1, kNow, kNow + kHour};
  EXPECT_EQ(freshnessAt(short_lived, kNow + kHour, policy), Freshness::Fresh);
  EXPECT_EQ(freshnessAt(short_lived, kNow + kHour + 1, policy),
            Freshness::Stale);  // past expiry, in grace
  EXPECT_EQ(freshnessAt(s, s.expires_at + 7 * kDay, policy), Freshness::Stale);
  EXPECT_EQ(freshnessAt(s, s.expires_at + 7 * kDay + 1, policy), Freshness::Expired);
}

TEST_F(VerdictTest, StaleStillAnswersWithAReason) {
  auto v = decide(card("active", {coverage("active", "2026-01-01", "2026-12-31")}), snap,
                  kNow + 3 * kDay, policy);
  EXPECT_EQ(v.verdict, VerdictCode::Active);
  EXPECT_EQ(v.freshness, Freshness::Stale);
  EXPECT_FALSE(v.reason.empty());
}

TEST_F(VerdictTest, PastExpiryAndGraceIsUnverifiableNeverActive) {
  FreshnessPolicy p = policy;
  p.grace = kDay;
  auto c = card("active", {coverage("active", "2026-01-01", "2027-12-31")});
  EXPECT_EQ(decide(c, snap, snap.expires_at + kDay, p).verdict, VerdictCode::Active);
  auto v = decide(c, snap, snap.expires_at + kDay + 1, p);
  EXPECT_EQ(v.verdict, VerdictCode::Unverifiable);
  EXPECT_EQ(v.freshness, Freshness::Expired);
  EXPECT_EQ(decide(std::nullopt, snap, snap.expires_at + kDay + 1, p).verdict,
            VerdictCode::Unverifiable);
}

TEST_F(VerdictTest, ClockBeforeSigningTimeIsUnverifiable) {
  auto c = card("active", {coverage("active", "2026-01-01", "2026-12-31")});
  EXPECT_EQ(decide(c, snap, snap.signed_at - policy.clock_tolerance, policy).verdict,
            VerdictCode::Active);
  EXPECT_EQ(decide(c, snap, snap.signed_at - policy.clock_tolerance - 1, policy).verdict,
            VerdictCode::Unverifiable);
}

TEST_F(VerdictTest, JsonDocumentHasTheContractFields) {
  auto cov = coverage("active", "2026-01-01", "2026-12-31");
  cov.activity = "Gotong royong";
  auto j = toJson(decide(card("active", {cov}), snap, kNow, policy));
  EXPECT_EQ(j["verdict"], "ACTIVE");
  EXPECT_EQ(j["freshness"], "FRESH");
  EXPECT_EQ(j["snapshot"]["serial"], 9);
  EXPECT_EQ(j["snapshot"]["signed_at"], "2026-11-20T23:00:00Z");
  EXPECT_EQ(j["snapshot"]["age_seconds"], 3600);
  for (const char* k : {"card_no", "status", "holder", "category", "kelurahan", "rt"})
    EXPECT_TRUE(j["card"].contains(k)) << k;
  ASSERT_EQ(j["coverages"].size(), 1u);
  for (const char* k :
       {"program", "status", "valid_from", "valid_to", "funder", "legal_basis", "activity"})
    EXPECT_TRUE(j["coverages"][0].contains(k)) << k;
  EXPECT_FALSE(j["coverages"][0].contains("sk_rt_no"));
  EXPECT_EQ(j["coverages"][0]["active_today"], true);
  auto none = toJson(unverifiable("no verifiable cache", std::nullopt, kNow, policy));
  EXPECT_EQ(none["verdict"], "UNVERIFIABLE");
  EXPECT_TRUE(none["snapshot"].is_null());
}

}  // namespace
}  // namespace kb::cache
