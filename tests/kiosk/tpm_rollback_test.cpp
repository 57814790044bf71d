// The trust state's TPM NV counter, against a real TPM 2.0 emulator (swtpm)
// started by the test: wiping the whole state directory (cache files and
// trust-state.json) and importing an old bundle again must be ROLLBACK, and an
// old cache file copied into the wiped directory must not be served.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cache/publish.h"
#include "fixtures.h"
#include "tests/kiosk/child_process.h"
#include "tests/kiosk/signed_state_fixture.h"
#include "tests/web/http_client.h"
#include "tpm/counter.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kb::testing::binaryPath;
using kb::testing::ChildProcess;
using kb::testing::runToEnd;

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool canConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class TpmRollback : public kb::testing::SignedStateFixture {
 protected:
  void SetUp() override {
    makeState("kb-tpm-rollback");
    fs::create_directories(dir_ / "tpm");
    fs::create_directories(dir_ / "old");
    ASSERT_TRUE(fs::exists("/usr/bin/swtpm")) << "swtpm missing: scripts/install-deps.sh";
    // The swtpm TCTI talks to the control channel on port + 1: two adjacent free
    // ports, retried on a race with another process.
    for (int attempt = 0; attempt < 20 && !tpm_ready_; ++attempt) {
      port_ = freePort();
      ASSERT_GT(port_, 0);
      const int ctrl = port_ + 1;
      if (ctrl > 65535 || canConnect(port_) || canConnect(ctrl)) continue;
      swtpm_ = std::make_unique<ChildProcess>(
          "/usr/bin/swtpm",
          std::vector<std::string>{
              "socket", "--tpm2", "--server",
              "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1", "--ctrl",
              "type=tcp,port=" + std::to_string(ctrl) + ",bindaddr=127.0.0.1", "--flags",
              "not-need-init,startup-clear", "--tpmstate", "dir=" + (dir_ / "tpm").string()});
      for (int i = 0; i < 500 && !tpm_ready_ && !swtpm_->exited(); ++i) {
        if (canConnect(port_))
          tpm_ready_ = true;
        else
          std::this_thread::sleep_for(10ms);
      }
    }
    ASSERT_TRUE(tpm_ready_) << "swtpm did not come up: " << swtpm_->err();
    tcti_ = "swtpm:host=127.0.0.1,port=" + std::to_string(port_);

    for (int s = 1; s <= 3; ++s) bundles_.push_back(publish(s, s == 1 ? "active" : "revoked"));
  }
  void TearDown() override {
    swtpm_.reset();  // SIGKILL and reaped: no emulator left behind
    SignedStateFixture::TearDown();
  }

  kb::testing::RunResult import(int serial, const std::string& tcti, const fs::path& db) {
    return kbctl({"import", "--db", db.string(), "--root", rootPath(), "--tpm-tcti", tcti,
                  bundles_.at(static_cast<std::size_t>(serial - 1)).string()});
  }
  kb::testing::RunResult lookup(const std::string& tcti) {
    return kbctl({"lookup", "--db", db().string(), "--root", rootPath(), "--card", kCard,
                  "--tpm-tcti", tcti});
  }
  void wipeState() {
    fs::remove_all(dir_ / "state");
    fs::create_directories(dir_ / "state");
  }

  int port_ = 0;
  bool tpm_ready_ = false;
  std::unique_ptr<ChildProcess> swtpm_;
  std::string tcti_;
  std::vector<fs::path> bundles_;
};

TEST_F(TpmRollback, WipedStateDirectoryAndOldBundleIsRollback) {
  // An old cache file the attacker kept (serial 1, card still active).
  ASSERT_EQ(import(1, "none", dir_ / "old" / "cache.db").status, 0);

  auto two = import(2, tcti_, db());
  ASSERT_EQ(two.status, 0) << two.err;
  {
    auto counter = kb::tpm::Counter::open(tcti_);
    ASSERT_TRUE(counter) << counter.error().message;
    EXPECT_EQ(counter->value().value(), 2);  // the counter holds the serial
  }

  // Everything on disk gone: the trust state file alone would accept serial 1 again.
  wipeState();
  auto old = import(1, tcti_, db());
  EXPECT_EQ(old.status, 1);
  EXPECT_NE(old.err.find("ROLLBACK"), std::string::npos) << old.err;
  EXPECT_FALSE(fs::exists(db()));

  // The kept old cache copied into the wiped directory is never served.
  fs::copy_file(dir_ / "old" / "cache.db", db());
  auto l = lookup(tcti_);
  EXPECT_TRUE(l.out.starts_with("UNVERIFIABLE")) << l.out << l.err;
  EXPECT_NE(l.err.find("ROLLBACK"), std::string::npos) << l.err;
  fs::remove(db());

  // Without the TPM the same wiped directory takes serial 1: the hole the counter closes.
  ASSERT_EQ(import(1, "none", dir_ / "old2.db").status, 0);

  auto three = import(3, tcti_, db());
  ASSERT_EQ(three.status, 0) << three.err;
  auto l3 = lookup(tcti_);
  EXPECT_NE(l3.out.find("serial 3"), std::string::npos) << l3.out << l3.err;
  auto counter = kb::tpm::Counter::open(tcti_);
  ASSERT_TRUE(counter) << counter.error().message;
  EXPECT_EQ(counter->value().value(), 3);
}

TEST_F(TpmRollback, DaemonRefusesAnOldCacheInAWipedStateDirectory) {
  ASSERT_EQ(import(1, "none", dir_ / "old" / "cache.db").status, 0);
  ASSERT_EQ(import(2, tcti_, db()).status, 0);
  wipeState();
  fs::copy_file(dir_ / "old" / "cache.db", db());
  std::unique_ptr<ChildProcess> d;
  const auto port = startDaemon(d, "tpm_tcti = " + tcti_ + "\n");
  ASSERT_NE(port, 0) << d->err();
  auto h = kb::testing::httpGet(port, "/healthz");
  auto health = nlohmann::json::parse(h.body);
  EXPECT_EQ(h.status, 503) << h.body;
  EXPECT_EQ(health["code"], "ROLLBACK") << h.body;
  EXPECT_EQ(health["tpm"], "counter");
}

TEST_F(TpmRollback, CounterOnlyRisesAndBoundsOneRaise) {
  auto counter = kb::tpm::Counter::open(tcti_);
  ASSERT_TRUE(counter) << counter.error().message;
  const auto start = counter->value().value();
  EXPECT_EQ(counter->raiseTo(start + 5).value(), start + 5);
  EXPECT_EQ(counter->raiseTo(1).value(), start + 5);  // never lowered
  auto big = counter->raiseTo(start + 5 + kb::tpm::kMaxStep + 1);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, kb::Errc::Malformed);
  // A TPM that is not there is an error, never "no floor".
  auto gone = kb::tpm::Counter::open("swtpm:host=127.0.0.1,port=1");
  EXPECT_FALSE(gone);
}

TEST(TpmTcti, Resolve) {
  EXPECT_EQ(kb::tpm::resolveTcti("none"), std::nullopt);
  EXPECT_EQ(kb::tpm::resolveTcti("swtpm:port=1"), std::optional<std::string>("swtpm:port=1"));
  EXPECT_EQ(kb::tpm::resolveTcti("").has_value(), fs::exists("/dev/tpmrm0"));
}

}  // namespace
