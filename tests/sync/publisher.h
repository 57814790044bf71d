#pragma once
// The publisher side for the sync tests: a root (two root keys, threshold 2),
// snapshot and timestamp keys, and a mirror directory served by nginx.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "cache/publish.h"
#include "common/files.h"
#include "fixtures.h"
#include "sync/timestamp.h"

namespace kb::sync::testing {

namespace fs = std::filesystem;

inline crypto::SigningKey newKey() {
  return *crypto::SigningKey::generate();
}

inline constexpr std::uint64_t kCards = 3000;  // ~1.5 MB snapshot: slow mirror takes minutes

// The publisher: root (two root keys, threshold 2), snapshot and timestamp keys.
struct Publisher {
  crypto::SigningKey r1 = newKey(), r2 = newKey(), snap = newKey(), card = newKey(), ts = newKey();
  trust::TrustRoot root;
  fs::path dir;
  /// Optional: what else changes from serial to serial (the soak test's tapped card).
  std::function<void(std::vector<roster::CardRecord>&, std::int64_t)> vary;

  static trust::TrustRoot makeRoot(const Publisher& p, UnixSeconds now) {
    trust::RootSpec spec;
    spec.version = 1;
    spec.expires = now + 30 * 86400;
    spec.root_threshold = 2;
    spec.root_keys = {p.r1.publicKey(), p.r2.publicKey()};
    spec.snapshot_keys = {p.snap.publicKey()};
    spec.card_keys = {p.card.publicKey()};
    spec.timestamp_keys = {p.ts.publicKey()};
    return *trust::TrustRoot::parse(trust::makeRoot(spec, {p.r1, p.r2}), now);
  }

  explicit Publisher(fs::path d) : root(makeRoot(*this, nowSeconds())), dir(std::move(d)) {
    fs::create_directories(dir);
  }

  std::vector<roster::CardRecord> cards(std::int64_t serial) const {
    auto c = cache::testing::syntheticCards(kCards);
    for (std::uint64_t i = 0; i < 30; ++i)  // 1 % changes from serial to serial
      c[i] = cache::testing::syntheticCard(i, static_cast<std::uint64_t>(serial));
    if (vary) vary(c, serial);
    return c;
  }

  void publish(std::int64_t serial, bool delta = false) {
    const UnixSeconds now = nowSeconds();
    cache::PublishOptions po;
    po.serial = serial;
    po.signed_at = now;
    po.expires_at = now + 7 * 86400;
    po.out_dir = dir;
    if (delta) po.base = dir / snapshotName(serial - 1);
    auto r = cache::publish(cards(serial), root, {snap}, po);
    ASSERT_TRUE(r) << r.error().message;
  }

  void stamp(UnixSeconds expires_in = 3600) {
    const UnixSeconds now = nowSeconds();
    writeFileAtomic(dir / rootName(root.version()), root.text());
    auto t = describeMirror(dir, root, now, now + expires_in);
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_TRUE(writeFileAtomic(dir / "timestamp.json", signTimestamp(*t, {ts})));
  }
};

}  // namespace kb::sync::testing
