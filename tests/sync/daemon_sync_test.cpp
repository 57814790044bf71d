// A running kiosk daemon keeps itself current from a real nginx mirror: its
// background sync picks up a new serial, /api/state and /metrics say what the
// last sync did (its typed error included), and a failed sync changes nothing
// being served.

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

TEST(DaemonSync, RunningKioskPicksUpNewSerialsAndReportsFaults) {
  TempDir base;
  auto pki = testing::makePki(base.path() / "pki");
  testing::Nginx nginx(base.path() / "nginx", pki);
  Publisher pub(nginx.www() / "mirror");
  pub.publish(1);
  pub.stamp();
  const std::string url = nginx.url("mirror/");

  const fs::path dir = base.path() / "kiosk";
  fs::create_directories(dir / "etc");
  fs::create_directories(dir / "state");
  fs::create_directories(dir / "ui");
  std::ofstream(dir / "ui" / "index.html") << "<!doctype html>";
  cache::testing::writeFile(dir / "etc" / "root.json", pub.root.text());
  std::ofstream(dir / "etc" / "kiosk.conf")
      << "listen = 127.0.0.1:0\nstate_dir = " << (dir / "state").string()
      << "\nroot = " << (dir / "etc" / "root.json").string()
      << "\nreader = sim\nui_dir = " << (dir / "ui").string()
      << "\nmirror = https://127.0.0.1:" << testing::freePort() << "/down/\nmirror = " << url
      << "\nmirror_ca = " << pki.ca_cert.string() << "\nsync_interval_minutes = 60\n";
  kb::testing::ChildProcess d(kb::testing::binaryPath("kartu-bahagiad"),
                              {"--config", (dir / "etc" / "kiosk.conf").string()});
  auto m = d.waitForOutput(std::regex(R"(listening on http://127\.0\.0\.1:([0-9]+)/)"), 30s);
  ASSERT_TRUE(m) << d.err();
  const auto port = static_cast<unsigned short>(std::stoi((*m)[1].str()));

  // Started with no cache: the first sync (first mirror down, second good) brings serial 1.
  ASSERT_TRUE(waitForData(port, [](const auto& j) { return j["serial"] == 1; }))
      << stateData(port).dump();
  auto first = stateData(port);
  EXPECT_TRUE(first["last_sync"].is_string());
  EXPECT_TRUE(first["last_sync_attempt"].is_string());
  EXPECT_TRUE(first["last_sync_error"].is_null());
  EXPECT_EQ(first["source"], url);
  EXPECT_EQ(first["freshness"], "FRESH");
  auto metrics = kb::testing::httpGet(port, "/metrics").body;
  EXPECT_NE(metrics.find("kb_sync_total{result=\"success\"} 1"), std::string::npos) << metrics;

  // The mirror loses its timestamp: the next sync (SIGHUP: sync now) fails with a typed
  // code and serial 1 keeps serving.
  fs::rename(pub.dir / "timestamp.json", pub.dir / "hidden.json");
  d.signal(SIGHUP);
  ASSERT_TRUE(waitForData(port, [](const auto& j) {
    return j["last_sync_error"] == "HTTP_STATUS";
  })) << stateData(port).dump();
  EXPECT_EQ(stateData(port)["serial"], 1);
  metrics = kb::testing::httpGet(port, "/metrics").body;
  EXPECT_TRUE(std::regex_search(
      metrics, std::regex(R"(kb_sync_failures_total\{code="HTTP_STATUS"\} [1-9])")))
      << metrics;
  EXPECT_NE(metrics.find("kb_sync_failing 1"), std::string::npos);

  // A new serial on the mirror reaches the running kiosk (by the delta), the error clears.
  pub.publish(2, true);
  pub.stamp();
  d.signal(SIGHUP);
  ASSERT_TRUE(waitForData(port, [](const auto& j) {
    return j["serial"] == 2 && j["last_sync_error"].is_null();
  })) << stateData(port).dump();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0) << d.err();
}

}  // namespace
}  // namespace kb::sync
