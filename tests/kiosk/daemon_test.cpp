// The real kartu-bahagiad binary: --check-config, --demo end to end (every demo
// card gives its screen), SIGTERM.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tests/kiosk/child_process.h"
#include "tests/web/http_client.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kb::testing::httpGet;
using kb::testing::httpRequest;
namespace http = boost::beast::http;

fs::path tempDir(const std::string& name) {
  auto d =
      fs::temp_directory_path() / ("kb_daemon_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The daemon as a child process, with its stdout and stderr on pipes.
class Child : public kb::testing::ChildProcess {
 public:
  explicit Child(std::vector<std::string> args)
      : ChildProcess(kb::testing::binaryPath("kartu-bahagiad"), std::move(args)) {}
};

TEST(CheckConfig, AcceptsAGoodFile) {
  auto dir = tempDir("good");
  // --check-config checks what start-up checks: the directories and the root must exist.
  std::ofstream(dir / "kiosk.conf")
      << "# test\nreader = pn532_uart:/dev/ttyUSB0\nlisten = 127.0.0.1:8080\n"
      << "state_dir = " << dir.string() << "\nui_dir = " << dir.string() << "\n"
      << "root = " << std::getenv("KB_SOURCE_DIR") << "/certs/dev/DEV-root.json\n"
      << "allow_dev_root = true\n";
  Child c({"--check-config", (dir / "kiosk.conf").string()});
  EXPECT_EQ(c.wait(30s), 0) << c.err();
  fs::remove_all(dir);
}

TEST(CheckConfig, RejectsWithFileLineKeyReason) {
  auto dir = tempDir("bad");
  auto file = (dir / "kiosk.conf").string();
  std::ofstream(file) << "reader = sim\n\nidle_timeout_ms = soon\n";
  Child c({"--check-config", file});
  auto status = c.wait(30s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(c.err().find("error: CONFIG: " + file + ":3: idle_timeout_ms: not an integer: 'soon'"),
            std::string::npos)
      << c.err();

  std::ofstream(file) << "colour = blue\n";
  Child unknown({"--check-config", file});
  EXPECT_NE(unknown.wait(30s).value_or(0), 0);
  EXPECT_NE(unknown.err().find(file + ":1: colour: unknown key"), std::string::npos)
      << unknown.err();
  fs::remove_all(dir);
}

TEST(CommandLine, HelpAndUsageErrors) {
  Child help({"--help"});
  EXPECT_EQ(help.wait(30s), 0);
  EXPECT_NE(help.out().find("--check-config"), std::string::npos);
  EXPECT_NE(help.out().find("removal_timeout_ms"), std::string::npos);
  Child none({});
  EXPECT_EQ(none.wait(30s), kb::kExitUsage);
  EXPECT_NE(none.err().find("error: USAGE:"), std::string::npos);
  Child set_without_demo({"--check-config", "x", "--set", "reader=sim"});
  EXPECT_EQ(set_without_demo.wait(30s), kb::kExitUsage);
  Child bad_set({"--demo", "--set", "removal_timeout_ms=fast"});
  EXPECT_EQ(bad_set.wait(30s), kb::kExitUsage);
  EXPECT_NE(bad_set.err().find("removal_timeout_ms: not an integer"), std::string::npos)
      << bad_set.err();
}

class DemoDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    child_ = std::make_unique<Child>(std::vector<std::string>{
        "--demo", "--listen", "127.0.0.1:0", "--state-dir", (dir_ / "state").string(), "--set",
        "removal_timeout_ms=200", "--set", "error_timeout_ms=5000", "--set",
        "ui_dir=" + dir_.string()});
    auto m = child_->waitForOutput(std::regex(R"(Open the kiosk: +http://127\.0\.0\.1:([0-9]+)/)"));
    ASSERT_TRUE(m) << child_->out() << child_->err();
    port_ = static_cast<unsigned short>(std::stoi((*m)[1].str()));
  }
  void TearDown() override {
    child_.reset();
    fs::remove_all(dir_);
  }

  nlohmann::json state() { return nlohmann::json::parse(httpGet(port_, "/api/state").body); }

  // Polls /api/state until `pred` (bounded; only catches a hang).
  std::optional<nlohmann::json> waitState(const std::function<bool(const nlohmann::json&)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = state();
      if (pred(s)) return s;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  fs::path dir_;
  std::unique_ptr<Child> child_;
  unsigned short port_ = 0;
};

TEST_F(DemoDaemon, EveryDemoCardShowsItsScreen) {
  auto cards = nlohmann::json::parse(httpGet(port_, "/api/demo/cards").body);
  ASSERT_TRUE(cards.is_array());
  // What each demo card must lead to, written out here rather than taken from the demo's
  // own table: the screen and error code of docs/contracts.md §4 for that kind of card.
  struct Expected {
    const char* verdict;  ///< the card's expected_verdict in /api/demo/cards
    const char* screen;
    const char* error;  ///< null: no error code
  };
  const std::map<std::string, Expected> kExpected = {
      {"KB-DEMO-ACTIVE", {"ACTIVE", "status", nullptr}},
      {"KB-DEMO-KAMPUNG", {"ACTIVE", "status", nullptr}},
      {"KB-DEMO-INACTIVE", {"INACTIVE", "status", nullptr}},
      {"KB-DEMO-STALE", {"ACTIVE", "status", nullptr}},
      {"KB-DEMO-LOST", {"BLOCKED", "error", "BLOCKED"}},
      {"KB-DEMO-REVOKED", {"BLOCKED", "error", "BLOCKED"}},
      {"KB-DEMO-NOTFOUND", {"NOT_FOUND", "error", "NOT_FOUND"}},
      {"KB-DEMO-CLONED", {"CLONED", "error", "CANNOT_VERIFY_CARD"}},
      {"KB-DEMO-FORGED", {"FORGED", "error", "CANNOT_VERIFY_CARD"}},
      {"DEMO-BLANK", {"UNKNOWN_FORMAT", "error", "NOT_KARTU_BAHAGIA"}},
      {"DEMO-PULLED", {"READ_ERROR", "error", "READ_ERROR"}},
      {"KB-DEMO-EXPIRED", {"DATA_TOO_OLD", "error", "DATA_TOO_OLD"}},
      {"KB-DEMO-NODATA", {"NO_DATA", "error", "NO_DATA"}},
  };
  std::set<std::string> listed;
  for (const auto& card : cards) listed.insert(card["card_no"].get<std::string>());
  for (const auto& [card_no, want] : kExpected) EXPECT_TRUE(listed.count(card_no)) << card_no;
  EXPECT_EQ(listed.size(), kExpected.size()) << "a demo card without an expectation here";
  auto initial = state();
  EXPECT_EQ(initial["demo"], true);
  EXPECT_EQ(initial["data"]["freshness"], "FRESH");

  for (const auto& card : cards) {
    const std::string card_no = card["card_no"];
    auto r = httpRequest(port_, http::verb::post, "/api/demo/tap",
                         nlohmann::json{{"card_no", card_no}}.dump());
    ASSERT_EQ(r.status, 200) << card_no << r.body;
    auto shown = waitState(
        [](const nlohmann::json& s) { return s["screen"] != "idle" && s["screen"] != "reading"; });
    ASSERT_TRUE(shown) << card_no;
    ASSERT_TRUE(kExpected.count(card_no)) << card_no;
    const Expected& want = kExpected.at(card_no);
    EXPECT_EQ(card["expected_verdict"], want.verdict) << card_no;
    EXPECT_EQ((*shown)["screen"], want.screen) << card_no;
    EXPECT_EQ((*shown)["error"], want.error ? nlohmann::json(want.error) : nlohmann::json(nullptr))
        << card_no;
    if (std::string_view(want.screen) == "status") {
      EXPECT_EQ((*shown)["tap"]["card"]["card_no"], card_no);
      EXPECT_EQ((*shown)["tap"]["card_check"], "GENUINE");
      EXPECT_EQ((*shown)["tap"]["originality"], "VALID");
    } else {
      EXPECT_TRUE((*shown)["tap"].is_null()) << card_no;
      // The error screen still reports what the tap resolved to, without the holder.
      const std::string expected = card["expected_verdict"];
      if (expected == "CLONED" || expected == "FORGED" || expected == "UNKNOWN_FORMAT" ||
          expected == "READ_ERROR") {
        EXPECT_EQ((*shown)["card_check"], expected) << card_no;
        EXPECT_TRUE((*shown)["verdict"].is_null()) << card_no;
      } else {
        EXPECT_EQ((*shown)["card_check"], "GENUINE") << card_no;
      }
      if (expected == "BLOCKED" || expected == "NOT_FOUND") {
        EXPECT_EQ((*shown)["verdict"], expected) << card_no;
      }
      if (expected == "DATA_TOO_OLD") {
        EXPECT_EQ((*shown)["verdict"], "UNVERIFIABLE") << card_no;
      }
    }
    if (card_no == "KB-DEMO-STALE") {
      EXPECT_EQ((*shown)["tap"]["freshness"], "STALE");
    }
    ASSERT_EQ(httpRequest(port_, http::verb::post, "/api/demo/remove").status, 200);
    ASSERT_TRUE(waitState([](const nlohmann::json& s) { return s["screen"] == "idle"; }))
        << card_no;
  }
  // A genuine card's credential on another chip: a clone.
  auto clone = httpRequest(port_, http::verb::post, "/api/demo/tap",
                           R"({"card_no":"KB-DEMO-KAMPUNG","uid":"04aabbccddeeff"})");
  ASSERT_EQ(clone.status, 200);
  auto shown = waitState([](const nlohmann::json& s) { return s["screen"] == "error"; });
  ASSERT_TRUE(shown);
  EXPECT_EQ((*shown)["error"], "CANNOT_VERIFY_CARD");
  httpRequest(port_, http::verb::post, "/api/demo/remove");

  EXPECT_EQ(
      httpRequest(port_, http::verb::post, "/api/demo/tap", R"({"card_no":"NOPE-000"})").status,
      404);
  EXPECT_EQ(httpRequest(port_, http::verb::post, "/api/demo/tap", R"({"uid":"04"})").status, 400);

  // Logs carry verdicts, never card numbers or names.
  child_->signal(SIGTERM);
  ASSERT_TRUE(child_->wait(5s));
  const auto& log = child_->err();
  EXPECT_NE(log.find("<6>kiosk: tap card_check=GENUINE"), std::string::npos) << log;
  EXPECT_EQ(log.find("KB-DEMO"), std::string::npos) << log;
  EXPECT_EQ(log.find("SIT*"), std::string::npos) << log;
}

TEST_F(DemoDaemon, HealthAndMetricsWithTheDemoCache) {
  EXPECT_EQ(httpGet(port_, "/healthz").status, 200);
  auto metrics = httpGet(port_, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("kb_snapshot_serial 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("kb_data_valid 1"), std::string::npos);
}

TEST_F(DemoDaemon, SigtermStopsPromptlyEvenWithClientsConnected) {
  // An idle keep-alive connection and a WebSocket client must not hold the exit.
  boost::asio::io_context io;
  boost::beast::tcp_stream idle(io);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws(io);
  boost::beast::get_lowest_layer(ws).connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  ws.handshake("127.0.0.1:" + std::to_string(port_), "/api/ws");
  child_->signal(SIGTERM);
  auto status = child_->wait(5s);  // the daemon's own bound is 1 s; this only catches a hang
  ASSERT_TRUE(status) << "still running 5 s after SIGTERM";
  EXPECT_EQ(*status, 0) << child_->err();
  EXPECT_NE(child_->err().find("stopping on SIGTERM"), std::string::npos);
}

TEST_F(DemoDaemon, RerunReusesTheStateDirectoryAndRefusesForeignOnes) {
  child_->signal(SIGINT);
  ASSERT_TRUE(child_->wait(5s));
  Child again({"--demo", "--listen", "127.0.0.1:0", "--state-dir", (dir_ / "state").string()});
  ASSERT_TRUE(again.waitForOutput(std::regex("Open the kiosk")));
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(5s), 0);

  fs::create_directories(dir_ / "foreign");
  std::ofstream(dir_ / "foreign" / "precious.txt") << "keep me";
  Child foreign({"--demo", "--listen", "127.0.0.1:0", "--state-dir", (dir_ / "foreign").string()});
  EXPECT_EQ(foreign.wait(30s), kb::kExitUsage);
  EXPECT_TRUE(fs::exists(dir_ / "foreign" / "precious.txt"));
}

}  // namespace

// A reader that never answers (a serial port with nothing behind it) keeps the
// reader thread inside libnfc's open; SIGTERM must still end the daemon.
TEST(ProductionDaemon, SigtermStopsEvenWhileTheReaderDoesNotAnswer) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  std::string pty = ::ptsname(master);
  auto dir = tempDir("silent_reader");
  std::ofstream(dir / "kiosk.conf")
      << "listen = 127.0.0.1:0\n"
      << "state_dir = " << dir.string() << "\n"
      << "root = " << std::getenv("KB_SOURCE_DIR") << "/certs/dev/DEV-root.json\n"
      << "allow_dev_root = true\n"
      << "ui_dir = " << dir.string() << "\n"
      << "reader = pn532_uart:" << pty << "\n";
  Child daemon({"--config", (dir / "kiosk.conf").string()});
  // Let it try (and fail) to open the reader a few times, then stop it mid-attempt.
  for (int i = 0; i < 100 && daemon.err().find("reader lost") == std::string::npos; ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_NE(daemon.err().find("reader lost"), std::string::npos) << daemon.err();
  std::this_thread::sleep_for(150ms);
  daemon.signal(SIGTERM);
  auto status = daemon.wait(5s);  // only catches a hang; the bound itself is the daemon's
  ASSERT_TRUE(status) << "still running 5 s after SIGTERM: " << daemon.err();
  EXPECT_EQ(*status, 0) << daemon.err();
  ::close(master);
  fs::remove_all(dir);
}
