// A running kiosk whose mirror rotates the trust root: the sync walks to
// root-2.json, whose new snapshot and timestamp keys sign serial 2. The daemon
// must then serve with root 2 (reopening its cache with it), and after a restart
// start from the root it walked to, not the one in its config.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "daemon_state.h"
#include "nginx.h"
#include "publisher.h"
#include "tests/kiosk/child_process.h"
#include "tests/web/http_client.h"

namespace kb::sync {
namespace {

using namespace std::chrono_literals;
using cache::testing::TempDir;
using testing::Publisher;
namespace fs = std::filesystem;

using testing::stateData;
using testing::waitForData;

unsigned short startedPort(kb::testing::ChildProcess& d) {
  auto m = d.waitForOutput(std::regex(R"(listening on http://127\.0\.0\.1:([0-9]+)/)"), 30s);
  return m ? static_cast<unsigned short>(std::stoi((*m)[1].str())) : 0;
}

TEST(DaemonRoot, KioskThatWalkedToRoot2ServesBundlesSignedByRoot2sKeys) {
  TempDir base;
  auto pki = testing::makePki(base.path() / "pki");
  testing::Nginx nginx(base.path() / "nginx", pki);
  Publisher pub(nginx.www() / "mirror");
  pub.publish(1);
  pub.stamp();

  const fs::path dir = base.path() / "kiosk";
  fs::create_directories(dir / "etc");
  fs::create_directories(dir / "state");
  fs::create_directories(dir / "ui");
  std::ofstream(dir / "ui" / "index.html") << "<!doctype html>";
  cache::testing::writeFile(dir / "etc" / "root.json", pub.root.text());
  const fs::path conf = dir / "etc" / "kiosk.conf";
  std::ofstream(conf) << "listen = 127.0.0.1:0\nstate_dir = " << (dir / "state").string()
                      << "\nroot = " << (dir / "etc" / "root.json").string()
                      << "\nreader = sim\ntpm_tcti = none\nui_dir = " << (dir / "ui").string()
                      << "\nmirror = " << nginx.url("mirror/")
                      << "\nmirror_ca = " << pki.ca_cert.string() << "\n";
  auto d = std::make_unique<kb::testing::ChildProcess>(
      kb::testing::binaryPath("kartu-bahagiad"),
      std::vector<std::string>{"--config", conf.string()});
  auto port = startedPort(*d);
  ASSERT_NE(port, 0) << d->err();
  ASSERT_TRUE(waitForData(port, [](const auto& j) { return j["serial"] == 1; }))
      << stateData(port).dump();

  // Root 2: new root keys, and new snapshot and timestamp keys that root 1 never listed.
  const UnixSeconds now = nowSeconds();
  auto nr1 = testing::newKey(), nr2 = testing::newKey();
  trust::RootSpec spec;
  spec.version = 2;
  spec.expires = now + 30 * 86400;
  spec.root_threshold = 2;
  spec.root_keys = {nr1.publicKey(), nr2.publicKey()};
  pub.snap = testing::newKey();
  pub.ts = testing::newKey();
  spec.snapshot_keys = {pub.snap.publicKey()};
  spec.card_keys = {pub.card.publicKey()};
  spec.timestamp_keys = {pub.ts.publicKey()};
  pub.root = *trust::TrustRoot::parse(trust::makeRoot(spec, {pub.r1, pub.r2, nr1, nr2}), now);
  pub.publish(2);  // a snapshot signed by root 2's snapshot key only
  pub.stamp();     // root-2.json on the mirror, the timestamp by root 2's timestamp key

  d->signal(SIGHUP);
  ASSERT_TRUE(waitForData(port, [](const auto& j) {
    return j["serial"] == 2 && j["last_sync_error"].is_null() && j["freshness"] == "FRESH";
  })) << stateData(port).dump();
  auto health = kb::testing::httpGet(port, "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_TRUE(fs::exists(dir / "state" / "root-2.json"));
  d->signal(SIGTERM);
  EXPECT_EQ(d->wait(10s), 0) << d->err();

  // Restarted with root 1 still in its config: it serves serial 2 with the walked root.
  d = std::make_unique<kb::testing::ChildProcess>(
      kb::testing::binaryPath("kartu-bahagiad"),
      std::vector<std::string>{"--config", conf.string()});
  port = startedPort(*d);
  ASSERT_NE(port, 0) << d->err();
  auto first = stateData(port);
  EXPECT_EQ(first["serial"], 2) << first.dump();
  health = kb::testing::httpGet(port, "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  d->signal(SIGTERM);
  EXPECT_EQ(d->wait(10s), 0) << d->err();
}

}  // namespace
}  // namespace kb::sync
