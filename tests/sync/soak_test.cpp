// Soak (opt-in: KB_LONG=1; KB_SOAK_SECONDS, default 1800): a running
// kartu-bahagiad syncs from a real nginx (TLS, loopback) whose mirror changes
// (a new serial every few seconds, published as snapshot + delta) and fails at
// random (files removed, truncated or corrupted, an old or an expired
// timestamp, 500s, nginx stopped and started again), while a card is tapped
// over and over on the PN532 emulator through the daemon's real libnfc driver.
// Every tap's answer must be the data of the signed serial it names, a serial
// that was published, never older than an earlier tap's; at the end the mirror
// is mended and the next sync brings the newest serial with no error.

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "card/card_image.h"
#include "card/credential.h"
#include "card/originality.h"
#include "common/encoding.h"
#include "nginx.h"
#include "pn532_emulator.h"
#include "publisher.h"
#include "tests/kiosk/child_process.h"
#include "tests/web/http_client.h"

namespace kb::sync {
namespace {

using namespace std::chrono_literals;
using cache::testing::TempDir;
using testing::Publisher;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kUid("\x04\x51\x0a\x6b\x12\x34\x80", 7);
constexpr std::uint64_t kTapped = 0;  // the card on the reader: roster row 0

// What serial `s` says about the tapped card: a JKK validity end unique to it.
std::string validTo(std::int64_t serial) {
  return formatUtc(1798761600 + serial * 86400).substr(0, 10);  // 2027-01-01 + serial days
}

// /api/state, or null when the daemon did not answer within 10 s (its strand is stuck).
nlohmann::json state(unsigned short port) {
  auto body = kb::testing::boundedGet(port, "/api/state");
  if (!body) return {};
  auto j = nlohmann::json::parse(*body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

enum class Fault {
  None,
  NoTimestamp,
  NoDelta,
  ShortDelta,
  ShortSnapshot,
  CorruptDelta,
  OldTimestamp,
  ExpiredTimestamp,
  ServerErrors,
  NginxDown,
  kCount
};
const char* faultName(Fault f) {
  static const char* const kNames[] = {
      "none",          "no timestamp",  "no delta",          "short delta", "short snapshot",
      "corrupt delta", "old timestamp", "expired timestamp", "500s",        "nginx down"};
  return kNames[static_cast<int>(f)];
}

// The publisher and the saboteur, on one thread so that a fault is always
// mended before the next serial is published.
class Mirror {
 public:
  Mirror(Publisher& pub, testing::Nginx& nginx) : pub_(pub), nginx_(nginx) {}

  void publishNext() {
    const std::int64_t s = serial_ + 1;
    const std::string prev_ts = readOr(pub_.dir / "timestamp.json");
    pub_.publish(s, s > 1);
    pub_.stamp();
    {
      std::lock_guard lock(mutex_);
      published_[s] = pub_.cards(s)[kTapped];
    }
    old_ts_ = prev_ts;
    serial_ = s;
    // Only the newest two serials stay on the mirror (a kiosk takes the newest).
    std::error_code ec;
    fs::remove(pub_.dir / snapshotName(s - 2), ec);
    fs::remove(pub_.dir / ("delta-" + std::to_string(s - 3) + "-" + std::to_string(s - 2) + ".kbs"),
               ec);
  }

  void inject(Fault f) {
    fault_ = f;
    ++injected_[faultName(f)];
    const fs::path delta = pub_.dir / ("delta-" + std::to_string(serial_ - 1) + "-" +
                                       std::to_string(serial_) + ".kbs");
    const fs::path snap = pub_.dir / snapshotName(serial_);
    switch (f) {
      case Fault::None:
      case Fault::kCount:
        break;
      case Fault::NoTimestamp:
        put_aside(pub_.dir / "timestamp.json");
        fs::remove(pub_.dir / "timestamp.json");
        break;
      case Fault::NoDelta:
        put_aside(delta);
        fs::remove(delta);
        break;
      case Fault::ShortDelta:
      case Fault::ShortSnapshot: {
        const fs::path p = f == Fault::ShortDelta ? delta : snap;
        put_aside(p);
        cache::testing::writeFile(p, saved_.second.substr(0, saved_.second.size() / 2));
        break;
      }
      case Fault::CorruptDelta: {
        put_aside(delta);
        std::string b = saved_.second;
        if (!b.empty()) b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x5a);
        cache::testing::writeFile(delta, b);
        break;
      }
      case Fault::OldTimestamp:
        if (!old_ts_.empty()) writeFileAtomic(pub_.dir / "timestamp.json", old_ts_);
        break;
      case Fault::ExpiredTimestamp: {
        const UnixSeconds now = nowSeconds();
        auto t = describeMirror(pub_.dir, pub_.root, now - 7200, now - 3600);
        if (t) writeFileAtomic(pub_.dir / "timestamp.json", signTimestamp(*t, {pub_.ts}));
        break;
      }
      case Fault::ServerErrors:
        nginx_.failing(true);
        break;
      case Fault::NginxDown:
        nginx_.stop();
        break;
    }
  }

  void mend() {
    switch (fault_) {
      case Fault::NoTimestamp:
      case Fault::NoDelta:
      case Fault::ShortDelta:
      case Fault::ShortSnapshot:
      case Fault::CorruptDelta:
        if (!saved_.first.empty()) cache::testing::writeFile(saved_.first, saved_.second);
        break;
      case Fault::OldTimestamp:
      case Fault::ExpiredTimestamp:
        pub_.stamp();
        break;
      case Fault::ServerErrors:
        nginx_.failing(false);
        break;
      case Fault::NginxDown:
        nginx_.start();
        break;
      case Fault::None:
      case Fault::kCount:
        break;
    }
    saved_ = {};
    fault_ = Fault::None;
  }

  std::int64_t serial() const { return serial_; }
  std::map<std::int64_t, roster::CardRecord> published() const {
    std::lock_guard lock(mutex_);
    return published_;
  }
  const std::map<std::string, int>& injected() const { return injected_; }

 private:
  static std::string readOr(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec) ? cache::testing::readAll(p) : std::string();
  }
  void put_aside(const fs::path& p) {
    std::error_code ec;
    saved_ = fs::exists(p, ec) ? std::pair{p, cache::testing::readAll(p)}
                               : std::pair<fs::path, std::string>{};
  }

  Publisher& pub_;
  testing::Nginx& nginx_;
  std::int64_t serial_ = 0;
  std::string old_ts_;
  Fault fault_ = Fault::None;
  std::pair<fs::path, std::string> saved_;
  std::map<std::string, int> injected_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, roster::CardRecord> published_;
};

// The daemon's pid: the process whose command line names `config`.
pid_t pidOf(const std::string& config) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find("kartu-bahagiad") != std::string::npos && cmd.find(config) != std::string::npos)
      return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

// Each thread of `pid` as the kernel sees it: state, where it sleeps (wchan), nice
// and scheduling policy (0 normal, 5 SCHED_IDLE): who waits for whom when a tap
// goes unanswered.
std::string threadDump(pid_t pid) {
  std::string out;
  std::error_code ec;
  const fs::path task = fs::path("/proc") / std::to_string(pid) / "task";
  for (const auto& t : fs::directory_iterator(task, ec)) {
    std::ifstream stat_in(t.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_in)), std::istreambuf_iterator<char>());
    std::ifstream wchan_in(t.path() / "wchan");
    std::string wchan;
    std::getline(wchan_in, wchan);
    // After "(comm) ": state is field 3, nice 19, policy 41 (proc(5)).
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                               std::istream_iterator<std::string>());
    if (f.size() < 39) continue;
    out += "\n    tid " + t.path().filename().string() + " state " + f[0] + " nice " + f[16] +
           " policy " + f[38] + " wchan " + (wchan.empty() ? "-" : wchan);
  }
  return out;
}

long envSeconds(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && std::atol(v) > 0 ? std::atol(v) : fallback;
}

TEST(SyncSoak, TapsMatchASignedSerialWhileTheMirrorChangesAndFails) {
  const char* long_mode = std::getenv("KB_LONG");
  if (!long_mode || std::string(long_mode) != "1")
    GTEST_SKIP() << "soak test: set KB_LONG=1 (and KB_SOAK_SECONDS, default 1800) to run it";
  const auto duration = std::chrono::seconds(envSeconds("KB_SOAK_SECONDS", 1800));
  const auto publish_every = std::chrono::seconds(envSeconds("KB_SOAK_PUBLISH_SECONDS", 4));
  ::setenv("LIBNFC_AUTO_SCAN", "false", 1);  // the daemon opens only the emulator's pty
  ::setenv("LIBNFC_INTRUSIVE_SCAN", "false", 1);
  ::setenv("LIBNFC_LOG_LEVEL", "0", 1);

  TempDir base;
  auto pki = testing::makePki(base.path() / "pki");
  testing::Nginx nginx(base.path() / "nginx", pki);
  Publisher pub(nginx.www() / "flaky" / "mirror");
  pub.vary = [](std::vector<roster::CardRecord>& cards, std::int64_t serial) {
    cards[kTapped].card_uid = hexEncode(kUid);
    cards[kTapped].status = "active";  // always a status screen, whatever the serial
    ASSERT_FALSE(cards[kTapped].coverages.empty());
    cards[kTapped].coverages[0].valid_to = validTo(serial);
  };
  Mirror mirror(pub, nginx);
  mirror.publishNext();

  // The card: a credential for row 0 bound to the UID, and an originality signature.
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
  fs::create_directories(dir / "state");
  fs::create_directories(dir / "ui");
  std::ofstream(dir / "ui" / "index.html") << "<!doctype html>";
  cache::testing::writeFile(dir / "root.json", pub.root.text());
  std::ofstream(dir / "kiosk.conf")
      << "listen = 127.0.0.1:0\nstate_dir = " << (dir / "state").string()
      << "\nroot = " << (dir / "root.json").string() << "\nreader = " << (*emu)->connstring()
      << "\noriginality_key = " << hexEncode(signer->publicKey().point())
      << "\nui_dir = " << (dir / "ui").string() << "\nmirror = " << nginx.url("flaky/mirror/")
      << "\nmirror_ca = " << pki.ca_cert.string()
      << "\nsync_interval_minutes = 1\nremoval_timeout_ms = 100\n"
      // Also the guard of the "reading" screen: at 100 ms a read slowed by the load
      // was dropped (screen back to idle, the result ignored), a tap lost by the test.
      << "error_timeout_ms = 5000\n"
      << "log_level = debug\n";  // card arrived/removed too: what a failed tap's log shows
  kb::testing::ChildProcess d(kb::testing::binaryPath("kartu-bahagiad"),
                              {"--config", (dir / "kiosk.conf").string()});
  auto m = d.waitForOutput(std::regex(R"(listening on http://127\.0\.0\.1:([0-9]+)/)"), 30s);
  ASSERT_TRUE(m) << d.err();
  const auto port = static_cast<unsigned short>(std::stoi((*m)[1].str()));
  // What the last poll saw: the screen, or that the daemon did not answer at all
  // (its strand blocked: /api/state is served from it).
  std::string last_seen;
  auto waitState = [&](const std::function<bool(const nlohmann::json&)>& ok,
                       std::chrono::milliseconds bound) {
    const auto until = Clock::now() + bound;
    while (Clock::now() < until) {
      auto s = state(port);
      last_seen = s.is_object() ? "screen " + s["screen"].dump() + " reader " + s["reader"].dump()
                                : std::string("no HTTP answer");
      if (s.is_object() && ok(s)) return s;
      std::this_thread::sleep_for(20ms);
    }
    return nlohmann::json();
  };
  const pid_t daemon_pid = pidOf((dir / "kiosk.conf").string());
  const auto soak_start = Clock::now();
  ASSERT_TRUE(waitState([](const auto& s) { return s["data"]["serial"] == 1; }, 60s).is_object())
      << d.err();

  // The mirror thread: a new serial every publish_every; between, random faults.
  std::atomic<bool> stop{false};
  std::thread mirror_thread([&] {
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(1, static_cast<int>(Fault::kCount) - 1);
    std::uniform_int_distribution<int> pause_ms(300, 2500);
    auto last_publish = Clock::now();
    while (!stop) {
      mirror.mend();
      if (Clock::now() - last_publish >= publish_every) {
        mirror.publishNext();
        last_publish = Clock::now();
      }
      if (rng() % 3 != 0) mirror.inject(static_cast<Fault>(pick(rng)));
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    }
    mirror.mend();
  });

  // Taps, and "sync now" (SIGHUP) every second or so, until the time is up.
  int taps = 0, mismatches = 0;
  std::map<std::int64_t, int> taps_by_serial;
  std::int64_t newest_seen = 0;
  std::vector<std::string> problems;
  auto last_hup = Clock::now();
  const auto end = Clock::now() + duration;
  while (Clock::now() < end && !d.exited()) {
    if (Clock::now() - last_hup > 1s) {
      d.signal(SIGHUP);
      last_hup = Clock::now();
    }
    const std::size_t log_at = d.err().size();
    (*emu)->insert(tapped);
    auto shown = waitState(
        [](const auto& s) { return s["screen"] == "status" || s["screen"] == "error"; }, 10s);
    (*emu)->remove();
    // Out until the reader has seen it go (the daemon logs each arrival and removal):
    // put back sooner, the reader sees one card that never left and no new tap.
    {
      const auto until = Clock::now() + 10s;
      auto count = [&](const char* what) {
        std::size_t n = 0;
        const std::string& log = d.err();
        for (auto p = log.find(what); p != std::string::npos; p = log.find(what, p + 1)) ++n;
        return n;
      };
      while (count("kiosk: card removed") < count("kiosk: card arrived") && Clock::now() < until)
        std::this_thread::sleep_for(20ms);
    }
    ++taps;
    const auto published = mirror.published();
    std::string problem;
    if (!shown.is_object()) {
      problem = "no answer within 10 s (last poll: " + last_seen + ")";
      if (problems.size() < 10) problem += "; daemon threads:" + threadDump(daemon_pid);
    } else if (shown["screen"] != "status") {
      problem = "error screen " + shown["error"].dump();
    } else {
      const auto& tap = shown["tap"];
      const std::int64_t serial = tap["snapshot"].value("serial", std::int64_t{0});
      auto it = published.find(serial);
      if (it == published.end()) {
        problem = "serial " + std::to_string(serial) + " was never published";
      } else if (serial < newest_seen) {
        problem = "serial " + std::to_string(serial) + " after " + std::to_string(newest_seen);
      } else if (tap["card"]["card_no"] != it->second.card_no ||
                 tap["card"]["status"] != it->second.status ||
                 tap["coverages"].size() != it->second.coverages.size() ||
                 tap["coverages"][0]["valid_to"] != it->second.coverages[0].valid_to) {
        problem = "answer is not serial " + std::to_string(serial) + "'s data: " + tap.dump();
      } else {
        newest_seen = serial;
        ++taps_by_serial[serial];
      }
    }
    if (!problem.empty()) {
      ++mismatches;
      if (problems.size() < 10) {
        // When, and what the daemon logged during this tap.
        const auto at = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - soak_start);
        std::string logged = d.err().substr(log_at);
        if (logged.size() > 2000) logged = "..." + logged.substr(logged.size() - 2000);
        problems.push_back("tap " + std::to_string(taps) + " at " + std::to_string(at.count()) +
                           " s: " + problem + "\n  daemon log meanwhile:\n" + logged);
      }
    }
    waitState([](const auto& s) { return s["screen"] == "idle"; }, 10s);
    (void)d.err();  // keep the daemon's stderr pipe drained
  }
  stop = true;
  mirror_thread.join();
  ASSERT_FALSE(d.exited()) << "the daemon died: " << d.err();

  // Mended: one more serial, and the next sync brings it with no error.
  mirror.publishNext();
  const std::int64_t last = mirror.serial();
  d.signal(SIGHUP);
  auto final_state = waitState(
      [&](const auto& s) {
        return s["data"]["serial"] == last && s["data"]["last_sync_error"].is_null();
      },
      120s);
  const std::string metrics = kb::testing::httpGet(port, "/metrics").body;

  std::string faults;
  for (const auto& [name, n] : mirror.injected()) faults += " " + name + "=" + std::to_string(n);
  std::string sync_lines;
  const std::regex counter(R"(kb_sync_(total|failures_total)\{[^\n]*)");
  for (auto it = std::sregex_iterator(metrics.begin(), metrics.end(), counter);
       it != std::sregex_iterator(); ++it)
    sync_lines += "\n  " + it->str();
  std::printf(
      "soak: %ld s, %d taps on %zu distinct serials (published 1..%ld), %d mismatches\n"
      "faults injected:%s\ndaemon sync counters:%s\n",
      static_cast<long>(duration.count()), taps, taps_by_serial.size(), static_cast<long>(last),
      mismatches, faults.c_str(), sync_lines.c_str());
  for (const auto& p : problems) ADD_FAILURE() << p;
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(taps, 0);
  EXPECT_TRUE(final_state.is_object())
      << "the mended mirror's serial " << last << " was not installed: " << state(port).dump();
  EXPECT_TRUE(std::regex_search(metrics, std::regex(R"(kb_sync_failures_total\{code=)")))
      << "no sync ever failed: the faults did not reach the kiosk\n"
      << metrics;
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0) << d.err();
}

}  // namespace
}  // namespace kb::sync
