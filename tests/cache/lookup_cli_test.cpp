// kbctl lookup decides freshness with the kiosk's policy (docs/contracts.md §3):
// the same defaults as the daemon's config, and --soft-age-hours / --grace-days
// to give it the same values. Snapshots are signed at times relative to now, so
// each lookup lands hours or days away from a policy boundary.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "cache/freshness.h"
#include "cache/store.h"
#include "config/config.h"
#include "fixtures.h"

namespace kb::cache {
namespace {

using testing::kDay;
constexpr UnixSeconds kHour = 3600;

struct RunResult {
  int status = -1;
  std::string out;
};

std::string kbctl() {
  const char* dir = std::getenv("KB_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/daemon/bin/kbctl/kbctl";
}

RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class LookupCliTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  testing::Keys keys = testing::makeKeys();
  UnixSeconds now = nowSeconds();

  void SetUp() override {
    testing::writeFile(dir / "root.json", testing::rootText(keys, now + 365 * kDay));
  }

  /// Imports a snapshot signed `signed_ago` before now and expiring `expires_in` from now
  /// (negative: in the past), as an import at signing time would have.
  void importSnapshot(UnixSeconds signed_ago, UnixSeconds expires_in) {
    const UnixSeconds signed_at = now - signed_ago;
    auto parts = testing::snapshotParts(testing::syntheticCards(3), 1, signed_at, now + expires_in);
    testing::writeFile(dir / "s.kbs", testing::build(parts, {keys.snapshot}));
    auto root = trust::TrustRoot::parse(testing::rootText(keys, now + 365 * kDay), signed_at);
    ASSERT_TRUE(root.has_value());
    auto imported = importBundle(dir / "cache.db", dir / "s.kbs", *root, signed_at);
    ASSERT_TRUE(imported.has_value()) << imported.error().message;
  }

  RunResult lookup(const std::string& options) {
    return run(kbctl() + " lookup --db " + (dir / "cache.db").string() + " --root " +
               (dir / "root.json").string() + " --card " + testing::cardNo(1) + " --json " +
               options);
  }

  static std::string freshness(const RunResult& r) {
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return "unparsable: " + r.out;
    return doc.value("freshness", "");
  }
};

TEST_F(LookupCliTest, DefaultsAreTheDaemonConfigDefaults) {
  const config::Config defaults;
  const FreshnessPolicy from_config = freshnessPolicy(defaults.soft_age_hours, defaults.grace_days);
  const FreshnessPolicy lookup_default;
  EXPECT_EQ(from_config.soft_age, lookup_default.soft_age);
  EXPECT_EQ(from_config.grace, lookup_default.grace);
  EXPECT_EQ(lookup_default.soft_age, 36 * kHour);
  EXPECT_EQ(lookup_default.grace, 3 * kDay);
}

TEST_F(LookupCliTest, SoftAgeDefaultAndOption) {
  importSnapshot(40 * kHour, 10 * kDay);  // 40 h old: stale after 36 h, fresh under 48 h
  auto by_default = lookup("");
  EXPECT_EQ(by_default.status, 0);
  EXPECT_EQ(freshness(by_default), "STALE");
  auto longer = lookup("--soft-age-hours 48");
  EXPECT_EQ(longer.status, 0);
  EXPECT_EQ(freshness(longer), "FRESH");
  EXPECT_EQ(freshness(lookup("--soft-age-hours 24")), "STALE");
}

TEST_F(LookupCliTest, GraceDefaultAndOption) {
  importSnapshot(10 * kDay, -5 * kDay);  // expired 5 days ago: past a 3-day grace, within 7
  auto by_default = lookup("");
  EXPECT_EQ(by_default.status, 1);  // UNVERIFIABLE
  EXPECT_EQ(freshness(by_default), "EXPIRED");
  auto longer = lookup("--grace-days 7");
  EXPECT_EQ(longer.status, 0);
  EXPECT_EQ(freshness(longer), "STALE");
}

TEST_F(LookupCliTest, OutOfRangeOptionsAreUsageErrors) {
  importSnapshot(kHour, 10 * kDay);
  EXPECT_EQ(lookup("--soft-age-hours 0").status, 2);
  EXPECT_EQ(lookup("--soft-age-hours 8761").status, 2);
  EXPECT_EQ(lookup("--grace-days -1").status, 2);
  EXPECT_EQ(lookup("--grace-days 366").status, 2);
  EXPECT_EQ(lookup("--grace-days many").status, 2);
  EXPECT_EQ(lookup("--soft-age-hours 8760 --grace-days 0").status, 0);
}

}  // namespace
}  // namespace kb::cache
