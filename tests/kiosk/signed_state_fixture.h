#pragma once
// What the trust-state tests start from: a temporary kiosk directory
// (etc/, state/, ui/), a version-1 trust root, bundles published for a set of
// synthetic cards with one card (kCard) in a chosen status, and the real kbctl
// and kartu-bahagiad run against that directory.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "cache/publish.h"
#include "fixtures.h"
#include "tests/kiosk/child_process.h"

namespace kb::testing {

class SignedStateFixture : public ::testing::Test {
 protected:
  static constexpr UnixSeconds kDay = 86400;
  static inline const std::string kCard = cache::testing::cardNo(1);

  /// Makes the directory tree under /tmp/<prefix>-XXXXXX and the version-1 root.
  void makeState(const std::string& prefix) {
    std::string templ = "/tmp/" + prefix + "-XXXXXX";
    ASSERT_TRUE(::mkdtemp(templ.data()));
    dir_ = templ;
    for (const char* d : {"etc", "state", "ui"}) std::filesystem::create_directories(dir_ / d);
    std::ofstream(dir_ / "ui" / "index.html") << "<!doctype html>";
    writeRoot(1, {root_key_}, {root_key_}, rootPath());
    root_ = trust::TrustRoot::load(rootPath(), now_).value();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void writeRoot(int version, const std::vector<crypto::SigningKey>& signers,
                 const std::vector<crypto::SigningKey>& root_keys, const std::filesystem::path& out,
                 bool dev = false) {
    trust::RootSpec spec;
    spec.version = version;
    spec.expires = now_ + 365 * kDay;
    spec.dev = dev;
    for (const auto& k : root_keys) spec.root_keys.push_back(k.publicKey());
    spec.snapshot_keys = {snapshot_key_.publicKey()};
    spec.card_keys = {snapshot_key_.publicKey()};
    std::ofstream(out) << trust::makeRoot(spec, signers);
  }

  /// Publishes serial `serial` of `cards` synthetic cards, kCard in `status` with
  /// cover valid around today; returns the snapshot bundle.
  std::filesystem::path publish(std::int64_t serial, const std::string& status,
                                std::size_t cards = 20) {
    auto all = cache::testing::syntheticCards(cards);
    for (auto& c : all) {
      if (c.card_no != kCard) continue;
      c.status = status;
      for (auto& cov : c.coverages) {
        cov.status = "active";
        cov.valid_from = formatDate(dayOf(now_ - 30 * kDay));
        cov.valid_to = formatDate(dayOf(now_ + 300 * kDay));
      }
    }
    cache::PublishOptions o;
    o.serial = serial;
    o.signed_at = now_ - 3600 + serial * 60;
    o.expires_at = now_ + 30 * kDay;
    o.out_dir = dir_ / ("bundles-" + std::to_string(serial));
    std::filesystem::create_directories(o.out_dir);
    auto r = cache::publish(std::move(all), *root_, {snapshot_key_}, o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->snapshot : std::filesystem::path();
  }

  RunResult kbctl(std::vector<std::string> args) {
    return runToEnd(binaryPath("kbctl"), std::move(args));
  }

  /// Writes etc/kiosk.conf (sim reader, this directory's state and root, `extra` lines).
  std::filesystem::path writeConfig(const std::string& extra = "") {
    auto file = dir_ / "etc" / "kiosk.conf";
    std::ofstream(file) << "listen = 127.0.0.1:0\n"
                        << "state_dir = " << (dir_ / "state").string() << "\n"
                        << "root = " << rootPath() << "\n"
                        << "reader = sim\n"
                        << "ui_dir = " << (dir_ / "ui").string() << "\n"
                        << extra;
    return file;
  }

  /// Starts the daemon on that config; its port, or 0 if it did not come up.
  unsigned short startDaemon(std::unique_ptr<ChildProcess>& child, const std::string& extra = "") {
    child = std::make_unique<ChildProcess>(
        binaryPath("kartu-bahagiad"), std::vector<std::string>{"--config", writeConfig(extra)});
    auto m = child->waitForOutput(std::regex(R"(listening on http://127\.0\.0\.1:([0-9]+)/)"),
                                  std::chrono::seconds(30));
    if (!m) return 0;
    return static_cast<unsigned short>(std::stoi((*m)[1].str()));
  }

  std::string rootPath() const { return (dir_ / "etc" / "root.json").string(); }
  std::filesystem::path db() const { return dir_ / "state" / "cache.db"; }

  UnixSeconds now_ = nowSeconds();
  std::filesystem::path dir_;
  crypto::SigningKey root_key_ = crypto::SigningKey::generate().value();
  crypto::SigningKey snapshot_key_ = crypto::SigningKey::generate().value();
  std::optional<trust::TrustRoot> root_;
};

}  // namespace kb::testing
