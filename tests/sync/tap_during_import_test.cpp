// A tap never waits for the sync thread. A running kartu-bahagiad (real libnfc
// driver on the PN532 emulator, real nginx mirror with TLS) is held in the
// middle of an import: the test takes the trust state's lock, as an importer
// does across its write and fsyncs (seconds on a busy disk, longer when the
// importer's thread is starved), so the daemon's sync swaps the new file in and
// then waits on that lock. While it waits, a tap must be answered from the new
// serial and /api/state must say so; once the lock is free the sync completes
// and raises the trust state. Before the fix the kiosk's reload
// queued behind the same lock and took the strand (and every tap) with it.
//
// Nothing here asserts a duration: the waits are bounds against a hang.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cache/trust_state.h"
#include "card/card_image.h"
#include "card/credential.h"
#include "card/originality.h"
#include "common/encoding.h"
#include "held_lock.h"
#include "nginx.h"
#include "pn532_emulator.h"
#include "publisher.h"
#include "tests/kiosk/child_process.h"
#include "tests/web/http_client.h"

namespace kb::sync {
namespace {

using namespace std::chrono_literals;
using cache::testing::TempDir;
using testing::HeldLock;
using testing::inode;
using testing::Publisher;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kUid("\x04\x51\x0a\x6b\x12\x34\x81", 7);
constexpr std::uint64_t kTapped = 0;  // the card on the reader: roster row 0

std::string validTo(std::int64_t serial) {  // what serial `s` says about the tapped card
  return formatUtc(1798761600 + serial * 86400).substr(0, 10);
}

// /api/state, or null when the daemon did not answer within 10 s (its strand is stuck).
nlohmann::json state(unsigned short port) {
  auto body = kb::testing::boundedGet(port, "/api/state");
  if (!body) return {};
  auto j = nlohmann::json::parse(*body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

// Polls until `ok` holds; null once `bound` has passed (a guard against a hang).
nlohmann::json waitState(unsigned short port, const std::function<bool(const nlohmann::json&)>& ok,
                         std::chrono::seconds bound = 60s) {
  const auto until = Clock::now() + bound;
  while (Clock::now() < until) {
    auto s = state(port);
    if (s.is_object() && ok(s)) return s;
    std::this_thread::sleep_for(20ms);
  }
  return {};
}

std::string syncSuccesses(unsigned short port) {
  const auto metrics = kb::testing::boundedGet(port, "/metrics").value_or("");
  std::smatch m;
  return std::regex_search(metrics, m, std::regex(R"(kb_sync_total\{result="success"\} ([0-9]+))"))
             ? m[1].str()
             : std::string("?");
}

TEST(TapDuringImport, ATapIsAnsweredWhileTheSyncThreadIsHeldInTheMiddleOfAnImport) {
  ::setenv("LIBNFC_AUTO_SCAN", "false", 1);  // the daemon opens only the emulator's pty
  ::setenv("LIBNFC_INTRUSIVE_SCAN", "false", 1);
  ::setenv("LIBNFC_LOG_LEVEL", "0", 1);

  TempDir base;
  auto pki = testing::makePki(base.path() / "pki");
  testing::Nginx nginx(base.path() / "nginx", pki);
  Publisher pub(nginx.www() / "mirror");
  pub.vary = [](std::vector<roster::CardRecord>& cards, std::int64_t serial) {
    cards[kTapped].card_uid = hexEncode(kUid);
    cards[kTapped].status = "active";
    ASSERT_FALSE(cards[kTapped].coverages.empty());
    cards[kTapped].coverages[0].valid_to = validTo(serial);
  };
  pub.publish(1);
  pub.stamp();

  auto credential =
      card::issueCredential(pub.card, cache::testing::cardNo(kTapped), kUid, dayOf(nowSeconds()));
  ASSERT_TRUE(credential);
  auto image = card::encodeCardImage(reader::Chip::Ntag213, kUid, *credential);
  ASSERT_TRUE(image);
  auto signer = card::OriginalitySigningKey::generate();
  ASSERT_TRUE(signer);
  const test::EmulatedCard tapped{test::TagKind::Ntag213, kUid, *image, *signer->sign(kUid)};
  auto emu = test::Pn532Emulator::start();
  ASSERT_TRUE(emu) << emu.error().message;

  const fs::path dir = base.path() / "kiosk";
  const fs::path state_dir = dir / "state";
  fs::create_directories(state_dir);
  fs::create_directories(dir / "ui");
  std::ofstream(dir / "ui" / "index.html") << "<!doctype html>";
  cache::testing::writeFile(dir / "root.json", pub.root.text());
  std::ofstream(dir / "kiosk.conf")
      << "listen = 127.0.0.1:0\nstate_dir = " << state_dir.string()
      << "\nroot = " << (dir / "root.json").string() << "\nreader = " << (*emu)->connstring()
      << "\noriginality_key = " << hexEncode(signer->publicKey().point())
      << "\nui_dir = " << (dir / "ui").string() << "\nmirror = " << nginx.url("mirror/")
      << "\nmirror_ca = " << pki.ca_cert.string()
      << "\nsync_interval_minutes = 60\nremoval_timeout_ms = 100\n"
      << "error_timeout_ms = 5000\n";  // also the reading screen's guard: no tap dropped
  kb::testing::ChildProcess d(kb::testing::binaryPath("kartu-bahagiad"),
                              {"--config", (dir / "kiosk.conf").string()});
  auto m = d.waitForOutput(std::regex(R"(listening on http://127\.0\.0\.1:([0-9]+)/)"), 30s);
  ASSERT_TRUE(m) << d.err();
  const auto port = static_cast<unsigned short>(std::stoi((*m)[1].str()));
  ASSERT_TRUE(waitState(port, [](const auto& s) { return s["data"]["serial"] == 1; }).is_object())
      << d.err();
  ASSERT_TRUE(waitState(port, [](const auto& s) { return s["screen"] == "idle"; }).is_object());
  ASSERT_EQ(syncSuccesses(port), "1");

  // Hold the trust state's lock, publish serial 2 and ask for a sync: the worker
  // downloads and verifies the delta, swaps the new file in and then waits for the
  // lock to raise the trust state, mid-import, for as long as the test holds it.
  const fs::path db = state_dir / "cache.db";
  const fs::path trust_state = cache::trustStatePath(db);
  ASSERT_TRUE(fs::exists(trust_state)) << "the first sync raised no trust state";
  HeldLock lock(fs::path(trust_state.string() + ".lock"));
  ASSERT_TRUE(lock.held());
  const auto before = inode(db);
  pub.publish(2, true);
  pub.stamp();
  d.signal(SIGHUP);
  const auto until = Clock::now() + 60s;
  while (inode(db) == before && Clock::now() < until) std::this_thread::sleep_for(20ms);
  ASSERT_NE(inode(db), before) << "the sync never swapped serial 2 in: " << d.err();

  // A tap, answered from serial 2 while the sync thread is still held.
  (*emu)->insert(tapped);
  auto shown = waitState(port, [](const auto& s) { return s["screen"] == "status"; });
  (*emu)->remove();
  ASSERT_TRUE(shown.is_object()) << "the tap was not answered while the sync was held: "
                                 << state(port).dump() << "\n"
                                 << d.err();
  EXPECT_EQ(shown["tap"]["snapshot"]["serial"], 2) << shown["tap"].dump();
  EXPECT_EQ(shown["tap"]["coverages"][0]["valid_to"], validTo(2)) << shown["tap"].dump();
  EXPECT_EQ(syncSuccesses(port), "1") << "the sync was released early: the tap proves nothing";
  EXPECT_EQ(state(port)["data"]["serial"], 2);
  auto floor = cache::loadTrustState(trust_state);
  ASSERT_TRUE(floor);
  ASSERT_TRUE(floor->floorOf(db));
  EXPECT_EQ(floor->floorOf(db)->serial, 1) << "nobody could have raised the held trust state";

  // Released: the sync completes, with no error, and the trust state holds serial 2.
  lock.release();
  ASSERT_TRUE(waitState(port,
                        [&](const auto& s) {
                          return s["data"]["last_sync_error"].is_null() &&
                                 syncSuccesses(port) == "2";
                        })
                  .is_object())
      << state(port).dump() << "\n"
      << d.err();
  floor = cache::loadTrustState(trust_state);
  ASSERT_TRUE(floor);
  ASSERT_TRUE(floor->floorOf(db));
  EXPECT_EQ(floor->floorOf(db)->serial, 2);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0) << d.err();
}

}  // namespace
}  // namespace kb::sync
