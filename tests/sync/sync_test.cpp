// Mirror sync against a real nginx with TLS on loopback: the good paths and
// every transport and trust fault. After each fault the old cache still serves,
// the error names the fault with its typed code, and the next good sync works.

#include "sync/sync.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "cache/cache.h"
#include "cache/publish.h"
#include "common/files.h"
#include "fixtures.h"
#include "nginx.h"
#include "publisher.h"
#include "sync/timestamp.h"

namespace kb::sync {
namespace {

namespace fs = std::filesystem;
using cache::testing::TempDir;

using testing::kCards;
using testing::newKey;
using testing::Publisher;

class SyncTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new TempDir;
    pki_ = new testing::Pki(testing::makePki(base_->path() / "pki"));
    nginx_ = new testing::Nginx(base_->path() / "nginx", *pki_);
  }
  static void TearDownTestSuite() {
    delete nginx_;
    delete pki_;
    delete base_;
  }

  void SetUp() override {
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    pub_ = std::make_unique<Publisher>(nginx_->www() / name_);
    db_ = kiosk_.path() / "cache.db";
    trusted_ = pub_->root;
  }

  SyncOptions options(std::vector<std::string> mirrors) const {
    SyncOptions o;
    o.db = db_;
    o.mirrors = std::move(mirrors);
    o.http.ca_file = pki_->ca_cert.string();
    o.http.connect_timeout_s = 5;
    o.http.low_speed_bytes = 64 * 1024;
    o.http.low_speed_seconds = 2;
    return o;
  }
  std::string good() const { return nginx_->url(name_ + "/"); }

  Result<SyncReport> sync(std::vector<std::string> mirrors) {
    return syncOnce(options(std::move(mirrors)), trusted_, nowSeconds());
  }
  Result<SyncReport> sync() { return sync({good()}); }

  // The serial the cache serves, after checking a lookup still gets a verdict.
  std::int64_t serving() {
    const UnixSeconds now = nowSeconds();
    auto c = cache::Cache::open(db_, trusted_, now);
    auto v = c.lookup(cache::testing::cardNo(100), now);
    EXPECT_NE(v.verdict, cache::VerdictCode::Unverifiable) << v.reason;
    auto info = c.info(now);
    return info.snapshot ? info.snapshot->serial : 0;
  }

  // Serial 1 published, stamped and synced.
  void installFirst() {
    pub_->publish(1);
    pub_->stamp();
    auto r = sync();
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(serving(), 1);
  }

  // After a fault: the old serial serves, the mirror is repaired, a good sync works.
  void expectRecovers(std::int64_t old_serial, const std::function<void()>& repair = {}) {
    EXPECT_EQ(serving(), old_serial);
    if (repair) repair();
    auto r = sync();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_GE(serving(), old_serial);
  }

  static TempDir* base_;
  static testing::Pki* pki_;
  static testing::Nginx* nginx_;
  std::string name_;
  std::unique_ptr<Publisher> pub_;
  TempDir kiosk_;
  fs::path db_;
  trust::TrustRoot trusted_;
};
TempDir* SyncTest::base_ = nullptr;
testing::Pki* SyncTest::pki_ = nullptr;
testing::Nginx* SyncTest::nginx_ = nullptr;

Errc code(const Result<SyncReport>& r) {
  return r ? Errc::Internal : r.error().code;
}

TEST_F(SyncTest, FirstSyncTakesTheSnapshotThenIsCurrent) {
  pub_->publish(1);
  pub_->stamp();
  auto r = sync();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->outcome, SyncOutcome::Updated);
  EXPECT_FALSE(r->via_delta);
  EXPECT_EQ(r->serial, 1);
  EXPECT_EQ(r->bytes, fs::file_size(pub_->dir / "snapshot-1.kbs"));
  EXPECT_EQ(serving(), 1);
  auto again = sync();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->outcome, SyncOutcome::Current);
  EXPECT_EQ(again->bytes, 0u);
}

TEST_F(SyncTest, InstalledSerialTakesTheDelta) {
  installFirst();
  pub_->publish(2, true);
  pub_->stamp();
  ASSERT_TRUE(fs::exists(pub_->dir / "delta-1-2.kbs"));
  auto r = sync();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->via_delta);
  EXPECT_EQ(r->bytes, fs::file_size(pub_->dir / "delta-1-2.kbs"));
  EXPECT_LT(r->bytes, fs::file_size(pub_->dir / "snapshot-2.kbs") / 10);
  EXPECT_EQ(serving(), 2);
}

TEST_F(SyncTest, ConnectionRefusedIsMirrorUnreachable) {
  installFirst();
  pub_->publish(2, true);
  pub_->stamp();
  auto r = sync({"https://127.0.0.1:" + std::to_string(testing::freePort()) + "/"});
  EXPECT_EQ(code(r), Errc::MirrorUnreachable) << (r ? "" : r.error().message);
  expectRecovers(1);
  EXPECT_EQ(serving(), 2);
}

TEST_F(SyncTest, UntrustedCertificateIsTlsUntrusted) {
  installFirst();
  pub_->publish(2, true);
  pub_->stamp();
  auto o = options({good()});
  o.http.ca_file = pki_->other_ca_cert.string();
  auto r = syncOnce(o, trusted_, nowSeconds());
  EXPECT_EQ(code(r), Errc::TlsUntrusted) << (r ? "" : r.error().message);
  expectRecovers(1);
  EXPECT_EQ(serving(), 2);
}

TEST_F(SyncTest, NotFoundAndServerErrorAreHttpStatus) {
  installFirst();
  auto r404 = sync({nginx_->url("e404/")});
  EXPECT_EQ(code(r404), Errc::HttpStatus);
  EXPECT_NE(r404.error().message.find("404"), std::string::npos) << r404.error().message;
  auto r500 = sync({nginx_->url("e500/")});
  EXPECT_EQ(code(r500), Errc::HttpStatus);
  EXPECT_NE(r500.error().message.find("500"), std::string::npos) << r500.error().message;
  // A mirror whose timestamp names a file it does not have.
  pub_->publish(2, true);
  pub_->stamp();
  fs::rename(pub_->dir / "delta-1-2.kbs", pub_->dir / "hidden");
  auto missing = sync();
  EXPECT_EQ(code(missing), Errc::HttpStatus);
  expectRecovers(1, [&] { fs::rename(pub_->dir / "hidden", pub_->dir / "delta-1-2.kbs"); });
  EXPECT_EQ(serving(), 2);
}

TEST_F(SyncTest, FileShorterOrLongerThanTimestampIsLengthMismatch) {
  pub_->publish(1);
  pub_->stamp();
  const fs::path snap = pub_->dir / "snapshot-1.kbs";
  const std::string bytes = cache::testing::readAll(snap);
  cache::testing::writeFile(snap, bytes.substr(0, bytes.size() - 100));
  auto shorter = sync();
  EXPECT_EQ(code(shorter), Errc::LengthMismatch) << (shorter ? "" : shorter.error().message);
  cache::testing::writeFile(snap, bytes + std::string(5000, 'x'));
  auto longer = sync();
  EXPECT_EQ(code(longer), Errc::LengthMismatch) << (longer ? "" : longer.error().message);
  // Nothing was installed; nothing beyond the announced length was kept.
  EXPECT_FALSE(fs::exists(db_));
  EXPECT_FALSE(fs::exists(cache::withSuffix(db_, ".sync") / "snapshot-1.kbs.part"));
  cache::testing::writeFile(snap, bytes);
  auto ok = sync();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(serving(), 1);
}

TEST_F(SyncTest, OldTimestampIsRollback) {
  installFirst();
  const std::string old_ts = cache::testing::readAll(pub_->dir / "timestamp.json");
  pub_->publish(2, true);
  pub_->stamp();
  ASSERT_TRUE(sync());
  ASSERT_EQ(serving(), 2);
  // A mirror that serves the older, validly signed timestamp (and its files).
  writeFileAtomic(pub_->dir / "timestamp.json", old_ts);
  auto r = sync();
  EXPECT_EQ(code(r), Errc::Rollback) << (r ? "" : r.error().message);
  expectRecovers(2, [&] { pub_->stamp(); });
}

TEST_F(SyncTest, ExpiredTimestampIsFreeze) {
  installFirst();
  pub_->publish(2, true);
  // Validly signed, but its expiry has passed: the mirror is frozen at serial 2.
  const UnixSeconds now = nowSeconds();
  auto t = describeMirror(pub_->dir, pub_->root, now - 7200, now - 3600);
  ASSERT_TRUE(t);
  writeFileAtomic(pub_->dir / "timestamp.json", signTimestamp(*t, {pub_->ts}));
  auto r = sync();
  EXPECT_EQ(code(r), Errc::Freeze) << (r ? "" : r.error().message);
  expectRecovers(1, [&] { pub_->stamp(); });
  EXPECT_EQ(serving(), 2);
}

TEST_F(SyncTest, SnapshotNotMatchingTimestampIsDigestMismatch) {
  pub_->publish(1);
  pub_->stamp();
  // Another validly signed snapshot of the same length under the announced name.
  const fs::path snap = pub_->dir / "snapshot-1.kbs";
  const std::string announced = cache::testing::readAll(snap);
  cache::PublishOptions po;
  po.serial = 1;
  po.signed_at = nowSeconds() - 60;  // the same records, signed at another second
  po.expires_at = po.signed_at + 7 * 86400;
  po.out_dir = pub_->dir / "other";
  auto other = cache::publish(pub_->cards(1), pub_->root, {pub_->snap}, po);
  ASSERT_TRUE(other);
  const std::string swapped = cache::testing::readAll(other->snapshot);
  ASSERT_EQ(swapped.size(), announced.size());
  cache::testing::writeFile(snap, swapped);
  auto r = sync();
  EXPECT_EQ(code(r), Errc::DigestMismatch) << (r ? "" : r.error().message);
  EXPECT_FALSE(fs::exists(db_));
  cache::testing::writeFile(snap, announced);
  auto ok = sync();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(serving(), 1);
}

TEST_F(SyncTest, RootChainIsWalkedAndABreakIsRefused) {
  installFirst();
  const UnixSeconds now = nowSeconds();
  auto nr1 = newKey(), nr2 = newKey();
  trust::RootSpec spec;
  spec.version = 2;
  spec.expires = now + 30 * 86400;
  spec.root_threshold = 2;
  spec.root_keys = {nr1.publicKey(), nr2.publicKey()};
  spec.snapshot_keys = {pub_->snap.publicKey()};
  spec.card_keys = {pub_->card.publicKey()};
  spec.timestamp_keys = {pub_->ts.publicKey()};
  // Only one of version 1's two root keys signed: below its threshold.
  const std::string broken = trust::makeRoot(spec, {pub_->r1, nr1, nr2});
  auto broken_root = trust::TrustRoot::parse(broken, now);
  ASSERT_TRUE(broken_root);
  pub_->root = *broken_root;
  pub_->publish(2, true);
  pub_->stamp();
  auto r = sync();
  EXPECT_EQ(code(r), Errc::ThresholdNotMet) << (r ? "" : r.error().message);
  EXPECT_EQ(trusted_.version(), 1);
  EXPECT_FALSE(fs::exists(kiosk_.path() / "root-2.json"));
  EXPECT_EQ(serving(), 1);
  // Properly chained: signed by both old and both new root keys.
  const std::string good_root = trust::makeRoot(spec, {pub_->r1, pub_->r2, nr1, nr2});
  pub_->root = *trust::TrustRoot::parse(good_root, now);
  pub_->stamp();
  auto ok = sync();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(trusted_.version(), 2);
  EXPECT_EQ(ok->root_version, 2);
  EXPECT_TRUE(fs::exists(kiosk_.path() / "root-2.json"));
  EXPECT_EQ(newestLocalRoot(pub_->root, kiosk_.path(), now).version(), 2);
  EXPECT_EQ(serving(), 2);
}

TEST_F(SyncTest, FirstMirrorFailingSecondGood) {
  pub_->publish(1);
  pub_->stamp();
  auto r = sync({"https://127.0.0.1:" + std::to_string(testing::freePort()) + "/",
                 nginx_->url("e500/"), good()});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mirror, good());
  ASSERT_EQ(r->failed_mirrors.size(), 2u);
  EXPECT_EQ(r->failed_mirrors[0].code, Errc::MirrorUnreachable);
  EXPECT_EQ(r->failed_mirrors[1].code, Errc::HttpStatus);
  EXPECT_EQ(serving(), 1);
}

TEST_F(SyncTest, SlowMirrorTimesOutAndTheDownloadResumes) {
  installFirst();
  pub_->publish(3);  // no delta from 1: the whole snapshot
  pub_->stamp();
  const fs::path slow = nginx_->www() / "slow" / name_;
  fs::create_directories(slow);
  for (const auto& e : fs::directory_iterator(pub_->dir))
    fs::copy(e.path(), slow / e.path().filename());
  auto r = sync({nginx_->url("slow/" + name_ + "/")});
  EXPECT_EQ(code(r), Errc::Timeout) << (r ? "" : r.error().message);
  EXPECT_EQ(serving(), 1);
  const fs::path part = cache::withSuffix(db_, ".sync") / "snapshot-3.kbs.part";
  ASSERT_TRUE(fs::exists(part));
  const auto kept = fs::file_size(part);
  EXPECT_GT(kept, 0u);
  // The next sync continues where the interrupted one stopped (Range request).
  auto ok = sync();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->resumed);
  EXPECT_EQ(ok->bytes + kept, fs::file_size(pub_->dir / "snapshot-3.kbs"));
  EXPECT_EQ(serving(), 3);
  EXPECT_FALSE(fs::exists(part));
}

// Runs syncOnce in a child process (for faults that hit the process: a file size
// limit, SIGKILL). The child exits with the error code's number, 100 on success.
pid_t syncInChild(const SyncOptions& o, trust::TrustRoot root,
                  const std::function<void()>& before) {
  pid_t pid = ::fork();
  if (pid == 0) {
    before();
    auto r = syncOnce(o, root, nowSeconds());
    ::_exit(r ? 100 : static_cast<int>(r.error().code));
  }
  return pid;
}

TEST_F(SyncTest, DiskFullDuringDownloadThenResume) {
  installFirst();
  pub_->publish(3);
  pub_->stamp();
  pid_t pid = syncInChild(options({good()}), trusted_, [] {
    ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
    rlimit lim{200'000, 200'000};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  });
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), static_cast<int>(Errc::DiskFull)) << WEXITSTATUS(status);
  EXPECT_EQ(serving(), 1);
  const fs::path part = cache::withSuffix(db_, ".sync") / "snapshot-3.kbs.part";
  ASSERT_TRUE(fs::exists(part));
  const auto kept = fs::file_size(part);
  EXPECT_GT(kept, 0u);
  auto ok = sync();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->resumed);
  EXPECT_EQ(ok->bytes + kept, fs::file_size(pub_->dir / "snapshot-3.kbs"));
  EXPECT_EQ(serving(), 3);
}

TEST_F(SyncTest, KilledDuringDownloadThenResume) {
  installFirst();
  pub_->publish(3);
  pub_->stamp();
  const fs::path slow = nginx_->www() / "slow" / name_;
  fs::create_directories(slow);
  for (const auto& e : fs::directory_iterator(pub_->dir))
    fs::copy(e.path(), slow / e.path().filename());
  auto o = options({nginx_->url("slow/" + name_ + "/")});
  o.http.low_speed_bytes = 1;
  o.http.low_speed_seconds = 60;
  pid_t pid = syncInChild(o, trusted_, [] {});
  const fs::path part = cache::withSuffix(db_, ".sync") / "snapshot-3.kbs.part";
  auto size = [&] {
    std::error_code ec;
    auto n = fs::file_size(part, ec);
    return ec ? std::uintmax_t{0} : n;
  };
  for (int i = 0; i < 400 && size() < 8192; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(serving(), 1);
  const auto kept = fs::file_size(part);
  EXPECT_GE(kept, 8192u);
  auto ok = sync();  // the lock died with the process; the next sync resumes
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->resumed);
  EXPECT_EQ(ok->bytes + kept, fs::file_size(pub_->dir / "snapshot-3.kbs"));
  EXPECT_EQ(serving(), 3);
}

// kbctl timestamp and kbctl sync, the real binary: one sync, exit codes, --json.
struct Run {
  int status = -1;
  std::string out;
};
Run kbctl(const std::string& args) {
  const std::string bin = std::string(std::getenv("KB_BINARY_DIR")) + "/daemon/bin/kbctl/kbctl";
  Run r;
  FILE* p = ::popen((bin + " " + args + " 2>/dev/null").c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST_F(SyncTest, KbctlTimestampAndSync) {
  pub_->publish(1);
  const fs::path t = kiosk_.path() / "ts.key";
  const fs::path root = kiosk_.path() / "keys" / "root.json";
  fs::create_directories(root.parent_path());
  cache::testing::writeFile(t, pub_->ts.toPem());
  cache::testing::writeFile(root, pub_->root.text());
  const std::string dir = pub_->dir.string();
  auto stamped = kbctl("timestamp --root " + root.string() + " --key " + t.string() + " --dir " +
                       dir + " --expires-hours 2");
  ASSERT_EQ(stamped.status, 0) << stamped.out;
  EXPECT_TRUE(fs::exists(pub_->dir / "root-1.json"));
  // The snapshot key is not a timestamp key.
  cache::testing::writeFile(t, pub_->snap.toPem());
  EXPECT_EQ(kbctl("timestamp --root " + root.string() + " --key " + t.string() + " --dir " + dir +
                  " --expires-hours 2")
                .status,
            1);
  const std::string common = "sync --json --db " + db_.string() + " --root " + root.string() +
                             " --mirror " + good() + " --deadline-seconds 5";
  auto untrusted = kbctl(common + " --ca " + pki_->other_ca_cert.string());
  EXPECT_EQ(untrusted.status, 1);
  auto bad = nlohmann::json::parse(untrusted.out);
  EXPECT_EQ(bad["outcome"], "failed");
  EXPECT_EQ(bad["error"]["code"], "TLS_UNTRUSTED");
  auto ok = kbctl(common + " --ca " + pki_->ca_cert.string());
  ASSERT_EQ(ok.status, 0) << ok.out;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["outcome"], "updated");
  EXPECT_EQ(j["serial"], 1);
  EXPECT_EQ(j["via"], "snapshot");
  EXPECT_TRUE(j["error"].is_null());
  auto again = kbctl(common + " --ca " + pki_->ca_cert.string());
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(nlohmann::json::parse(again.out)["outcome"], "current");
  EXPECT_EQ(serving(), 1);
}

}  // namespace
}  // namespace kb::sync
