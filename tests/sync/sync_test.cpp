// Mirror sync against a real nginx with TLS on loopback: the good paths and
// every transport and trust fault. After each fault the old cache still serves
// the old data (every bucket verifying, the trust state untouched), the error
// names the fault with its typed code (also as the daemon's last_sync_error),
// and the next good sync works.

#include "sync/sync.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "cache/cache.h"
#include "cache/errors.h"
#include "cache/publish.h"
#include "cache/trust_state.h"
#include "common/files.h"
#include "fixtures.h"
#include "nginx.h"
#include "publisher.h"
#include "sync/errors.h"
#include "sync/timestamp.h"
#include "sync/worker.h"
#include "trust/errors.h"

extern char** environ;

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
    // As the daemon and kbctl sync: never below what this node accepted.
    o.import.trust_state = cache::trustStatePath(db_);
    o.import.root_chain_dir = kiosk_.path();
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

  // The serial the cache serves, after checking that every bucket verifies and
  // that a card which changes from serial to serial answers with that serial's data.
  std::int64_t serving() {
    const UnixSeconds now = nowSeconds();
    auto c = cache::Cache::open(db_, trusted_, now);
    auto info = c.info(now);
    if (!info.snapshot) return 0;
    const std::int64_t serial = info.snapshot->serial;
    auto whole = c.checkAll();
    EXPECT_TRUE(whole) << whole.error().message;
    auto v = c.lookup(cache::testing::cardNo(7), now);
    EXPECT_NE(v.verdict, cache::VerdictCode::Unverifiable) << v.reason;
    EXPECT_TRUE(v.card && v.card->status == pub_->cards(serial)[7].status)
        << "card 7 does not answer with serial " << serial << "'s data";
    return serial;
  }
  // The trust state file as it is now ("" when there is none).
  std::string trustState() const {
    std::error_code ec;
    const auto path = cache::trustStatePath(db_);
    return fs::exists(path, ec) ? cache::testing::readAll(path) : std::string();
  }
  std::int64_t trustFloor() const {
    auto s = cache::loadTrustState(cache::trustStatePath(db_));
    if (!s) return -1;
    auto f = s->floorOf(db_);
    return f ? f->serial : 0;
  }
  fs::path workDir() const { return cache::withSuffix(db_, ".sync"); }

  // Serial 1 published, stamped and synced.
  void installFirst() {
    pub_->publish(1);
    pub_->stamp();
    auto r = sync();
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(serving(), 1);
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

std::error_code code(const Result<SyncReport>& r) {
  return r ? make_error_code(Errc::Internal) : r.error().code;
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

// The faults a kiosk meets at a mirror, one row each. Every row starts from
// serial 1 installed (trust state at 1); `arrange` publishes serial 2 (or more)
// and breaks the mirror, `repair` mends it. The fault runs through the daemon's
// SyncWorker, so what /api/state would say is checked too.
class SyncFault;
struct Fault {
  std::string name;
  std::error_code code;
  std::string says;  ///< in the error message, if not empty
  std::function<SyncOptions(SyncFault&)> arrange;
  std::function<void(SyncFault&)> repair;
  std::int64_t then = 2;  ///< served after the repair and a good sync
};

class SyncFault : public SyncTest, public ::testing::WithParamInterface<Fault> {
 public:
  // Test-name access for the rows (the members are protected in SyncTest).
  Publisher& pub() { return *pub_; }
  SyncOptions opts(std::vector<std::string> m) const { return options(std::move(m)); }
  std::string goodUrl() const { return good(); }
  Result<SyncReport> syncGood() { return sync(); }
  const testing::Pki* pki() const { return pki_; }
  const testing::Nginx* nginx() const { return nginx_; }
  std::string saved;  ///< bytes a row put aside for its repair

  // Serial 2 (with the delta from 1) published and stamped.
  void publishNext() {
    pub_->publish(2, true);
    pub_->stamp();
  }
  fs::path delta() const { return pub_->dir / "delta-1-2.kbs"; }

  // One attempt of the daemon's worker; its status afterwards.
  SyncStatus workerAttempt(SyncOptions o) {
    SyncWorker w(std::move(o), trusted_, std::chrono::hours(1));
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    w.onAttempt([&] {
      std::lock_guard lock(m);
      done = true;
      cv.notify_all();
    });
    w.start();
    {
      std::unique_lock lock(m);
      cv.wait_for(lock, std::chrono::seconds(120), [&] { return done; });
    }
    w.stop();
    EXPECT_TRUE(done) << "the worker made no attempt";
    return w.status();
  }
};

std::string refusedUrl() {
  return "https://127.0.0.1:" + std::to_string(testing::freePort()) + "/";
}

const Fault kFaults[] = {
    {"ConnectionRefused", SyncErrc::MirrorUnreachable, "",
     [](SyncFault& f) {
       f.publishNext();
       return f.opts({refusedUrl()});
     },
     nullptr},
    {"UntrustedCertificate", SyncErrc::TlsUntrusted, "",
     [](SyncFault& f) {
       f.publishNext();
       auto o = f.opts({f.goodUrl()});
       o.http.ca_file = f.pki()->other_ca_cert.string();
       return o;
     },
     nullptr},
    {"NotFound", SyncErrc::HttpStatus, "404",
     [](SyncFault& f) {
       f.publishNext();
       return f.opts({f.nginx()->url("e404/")});
     },
     nullptr},
    {"ServerError", SyncErrc::HttpStatus, "500",
     [](SyncFault& f) {
       f.publishNext();
       return f.opts({f.nginx()->url("e500/")});
     },
     nullptr},
    {"AnnouncedFileMissing", SyncErrc::HttpStatus, "404",
     [](SyncFault& f) {
       f.publishNext();
       fs::rename(f.delta(), f.pub().dir / "hidden");
       return f.opts({f.goodUrl()});
     },
     [](SyncFault& f) { fs::rename(f.pub().dir / "hidden", f.delta()); }},
    {"FileShorterThanAnnounced", SyncErrc::LengthMismatch, "",
     [](SyncFault& f) {
       f.publishNext();
       f.saved = cache::testing::readAll(f.delta());
       cache::testing::writeFile(f.delta(), f.saved.substr(0, f.saved.size() - 100));
       return f.opts({f.goodUrl()});
     },
     [](SyncFault& f) { cache::testing::writeFile(f.delta(), f.saved); }},
    {"FileLongerThanAnnounced", SyncErrc::LengthMismatch, "",
     [](SyncFault& f) {
       f.publishNext();
       f.saved = cache::testing::readAll(f.delta());
       cache::testing::writeFile(f.delta(), f.saved + std::string(5000, 'x'));
       return f.opts({f.goodUrl()});
     },
     [](SyncFault& f) { cache::testing::writeFile(f.delta(), f.saved); }},
    // A mirror serving the older, validly signed timestamp (and its files).
    {"OldTimestampIsRollback", TrustErrc::Rollback, "",
     [](SyncFault& f) {
       const std::string old_ts = cache::testing::readAll(f.pub().dir / "timestamp.json");
       f.publishNext();
       auto r = f.syncGood();
       EXPECT_TRUE(r) << r.error().message;
       writeFileAtomic(f.pub().dir / "timestamp.json", old_ts);
       return f.opts({f.goodUrl()});
     },
     [](SyncFault& f) { f.pub().stamp(); }},
    // Validly signed, but its expiry has passed: the mirror is frozen at serial 2.
    {"ExpiredTimestampIsFreeze", SyncErrc::Freeze, "",
     [](SyncFault& f) {
       f.pub().publish(2, true);
       const UnixSeconds now = nowSeconds();
       auto ts = describeMirror(f.pub().dir, f.pub().root, now - 7200, now - 3600);
       EXPECT_TRUE(ts);
       writeFileAtomic(f.pub().dir / "timestamp.json", signTimestamp(*ts, {f.pub().ts}));
       return f.opts({f.goodUrl()});
     },
     [](SyncFault& f) { f.pub().stamp(); }},
    // Another validly signed delta of the same length under the announced name.
    {"DeltaNotMatchingTimestampIsDigestMismatch", CacheErrc::DigestMismatch, "SHA-256",
     [](SyncFault& f) {
       f.publishNext();
       f.saved = cache::testing::readAll(f.delta());
       cache::PublishOptions po;
       po.serial = 2;
       po.signed_at = nowSeconds() - 60;  // the same records, signed at another second
       po.expires_at = po.signed_at + 7 * 86400;
       po.out_dir = f.pub().dir / "other";
       po.base = f.pub().dir / "snapshot-1.kbs";
       auto other = cache::publish(f.pub().cards(2), f.pub().root, {f.pub().snap}, po);
       EXPECT_TRUE(other);
       const std::string swapped = cache::testing::readAll(po.out_dir / "delta-1-2.kbs");
       EXPECT_EQ(swapped.size(), f.saved.size());
       cache::testing::writeFile(f.delta(), swapped);
       return f.opts({f.goodUrl()});
     },
     [](SyncFault& f) { cache::testing::writeFile(f.delta(), f.saved); }},
};

TEST_P(SyncFault, OldCacheServesErrorIsTypedNextSyncWorks) {
  const Fault& fault = GetParam();
  installFirst();
  auto o = fault.arrange(*this);
  const std::int64_t before = serving();
  const std::string state = trustState();
  const int root_version = trusted_.version();
  ASSERT_GE(before, 1);

  const SyncStatus st = workerAttempt(o);
  ASSERT_TRUE(st.last_error);
  EXPECT_EQ(st.last_error->code, fault.code) << st.last_error->message;
  if (!fault.says.empty()) {
    EXPECT_NE(st.last_error->message.find(fault.says), std::string::npos) << st.last_error->message;
  }
  nlohmann::json data;
  addToData(st, data);
  EXPECT_EQ(data["last_sync_error"], std::string(codeName(fault.code)));
  EXPECT_TRUE(data["last_sync_attempt"].is_string());
  EXPECT_EQ(st.failures, 1u);
  EXPECT_NE(metricsText(st).find("kb_sync_failing 1"), std::string::npos);

  // Nothing lost, nothing half-done: the old serial serves whole, the trust
  // state and the root are as they were, no staging file is left.
  EXPECT_EQ(serving(), before);
  EXPECT_EQ(trustState(), state);
  EXPECT_EQ(trusted_.version(), root_version);
  EXPECT_FALSE(fs::exists(cache::withSuffix(db_, ".staging")));
  if (fault.code == SyncErrc::LengthMismatch || fault.code == CacheErrc::DigestMismatch) {
    EXPECT_FALSE(fs::exists(workDir() / "delta-1-2.kbs.part"))
        << "bytes that did not match the timestamp were kept";
  }

  if (fault.repair) fault.repair(*this);
  auto ok = sync();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(serving(), fault.then);
  EXPECT_EQ(trustFloor(), fault.then);
}

INSTANTIATE_TEST_SUITE_P(Mirror, SyncFault, ::testing::ValuesIn(kFaults),
                         [](const auto& row) { return row.param.name; });

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
  const std::string state = trustState();
  auto r = sync();
  EXPECT_EQ(code(r), TrustErrc::ThresholdNotMet) << (r ? "" : r.error().message);
  EXPECT_EQ(trustState(), state);
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
  EXPECT_EQ(r->failed_mirrors[0].code, SyncErrc::MirrorUnreachable);
  EXPECT_EQ(r->failed_mirrors[1].code, SyncErrc::HttpStatus);
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
  const std::string state = trustState();
  auto r = sync({nginx_->url("slow/" + name_ + "/")});
  EXPECT_EQ(code(r), Errc::Timeout) << (r ? "" : r.error().message);
  EXPECT_EQ(serving(), 1);
  EXPECT_EQ(trustState(), state);
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
    if (!r) std::fprintf(stderr, "child: %s\n", r.error().message.c_str());
    ::_exit(r ? 100 : r.error().code.value());
  }
  return pid;
}

TEST_F(SyncTest, DiskFullDuringDownloadThenResume) {
  installFirst();
  pub_->publish(3);
  pub_->stamp();
  const std::string state = trustState();
  // A limit below the snapshot's size, whatever the bundle encoding makes of it.
  const auto limit = static_cast<rlim_t>(fs::file_size(pub_->dir / "snapshot-3.kbs") / 2);
  pid_t pid = syncInChild(options({good()}), trusted_, [limit] {
    ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
    rlimit lim{limit, limit};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  });
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), static_cast<int>(Errc::DiskFull)) << WEXITSTATUS(status);
  EXPECT_EQ(serving(), 1);
  EXPECT_EQ(trustState(), state);
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
  const std::string state = trustState();
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
  EXPECT_EQ(trustState(), state);
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

// SIGKILL while `kbctl sync` imports a downloaded snapshot. The kill is sent the
// moment the import creates CACHE.db.staging (inotify), so it lands inside the
// import, after the download was verified and before the swap; the staging file
// still being there afterwards proves it. The old serial serves whole, the trust
// state is unchanged, and the next sync resumes from the verified download
// (nothing fetched again) and installs the new serial.
TEST_F(SyncTest, KilledDuringImportThenResume) {
  installFirst();
  pub_->publish(3);  // no delta from 1: the whole snapshot is imported
  pub_->stamp();
  const std::string state = trustState();
  const fs::path root = kiosk_.path() / "keys" / "root.json";
  fs::create_directories(root.parent_path());
  cache::testing::writeFile(root, pub_->root.text());
  const fs::path staging = cache::withSuffix(db_, ".staging");

  int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  ASSERT_GE(in, 0);
  ASSERT_GE(::inotify_add_watch(in, kiosk_.path().c_str(), IN_CREATE), 0);
  const std::string bin = std::string(std::getenv("KB_BINARY_DIR")) + "/daemon/bin/kbctl/kbctl";
  std::vector<std::string> args = {
      bin,           "sync",     "--db", db_.string(), "--root",
      root.string(), "--mirror", good(), "--ca",       pki_->ca_cert.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  bool killed = false;
  alignas(inotify_event) char buf[4096];
  for (int i = 0; i < 600 && !killed; ++i) {  // bounded: only catches a sync that never imports
    pollfd p{in, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) break;  // ended without importing
      continue;
    }
    const ssize_t n = ::read(in, buf, sizeof buf);
    for (ssize_t off = 0; n > 0 && off < n && !killed;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
      if (e->len > 0 && staging.filename() == e->name) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
      off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  ::close(in);
  ASSERT_TRUE(killed) << "kbctl sync never started the import";
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "kbctl sync finished before the kill";
  EXPECT_TRUE(fs::exists(staging)) << "the kill did not land inside the import";

  // The old cache serves whole; what this node accepted is unchanged.
  EXPECT_EQ(serving(), 1);
  EXPECT_EQ(trustState(), state);
  EXPECT_EQ(trustFloor(), 1);
  EXPECT_TRUE(fs::exists(workDir() / "snapshot-3.kbs")) << "the verified download was lost";

  // The next sync (the kbctl binary again) imports the verified download without
  // fetching it again; the stale staging file is replaced.
  auto r = kbctl("sync --json --db " + db_.string() + " --root " + root.string() + " --mirror " +
                 good() + " --ca " + pki_->ca_cert.string());
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "updated");
  EXPECT_EQ(j["serial"], 3);
  EXPECT_EQ(j["bytes"], 0);
  EXPECT_EQ(j["resumed"], true);
  EXPECT_EQ(serving(), 3);
  EXPECT_EQ(trustFloor(), 3);
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_FALSE(fs::exists(workDir() / "snapshot-3.kbs"));
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
