// Attacks by someone with a shell on the kiosk, against the real kbctl and
// kartu-bahagiad binaries: after serial 2 (card revoked) is imported, every
// tamper that breaks cache.db, and every older cache copied over it, must give
// UNVERIFIABLE / ROLLBACK (never the revoked card ACTIVE from serial 1), with
// /healthz 503, one log line and a metric. Also: the DEV root outside --demo,
// roots not chained from the trusted one, and what --check-config checks.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cache/cache.h"
#include "cache/publish.h"
#include "cache/store.h"
#include "cache/trust_state.h"
#include "fixtures.h"
#include "kiosk/data_source.h"
#include "kiosk/machine.h"
#include "tests/kiosk/child_process.h"
#include "tests/kiosk/signed_state_fixture.h"
#include "tests/web/http_client.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kb::cache::testing::tamper;
using kb::testing::binaryPath;
using kb::testing::ChildProcess;
using kb::testing::httpGet;
using kb::testing::runToEnd;

std::string daemon() {
  return binaryPath("kartu-bahagiad");
}

// A writer that dies mid-transaction: its rollback journal stays behind "hot",
// and a read-only opener cannot roll it back.
void plantHotJournal(const fs::path& db) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sqlite3* raw = nullptr;
    sqlite3_open(db.c_str(), &raw);
    sqlite3_exec(raw,
                 "PRAGMA journal_mode=DELETE; PRAGMA cache_size=1; BEGIN; "
                 "UPDATE records SET body = body || 'x';",
                 nullptr, nullptr, nullptr);
    ::_exit(0);  // no COMMIT, no close
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(fs::exists(fs::path(db.string() + "-journal")));
}

class TrustAttack : public kb::testing::SignedStateFixture {
 protected:
  void SetUp() override {
    makeState("kb-trust-attack");
    // Serial 1: the card is active. Serial 2: it has been revoked.
    s1_ = publish(1, "active", 40);
    s2_ = publish(2, "revoked", 40);
  }

  kb::testing::RunResult import(const fs::path& bundle) {
    return kbctl({"import", "--db", db().string(), "--root", rootPath(), bundle});
  }
  kb::testing::RunResult lookup() {
    return kbctl({"lookup", "--db", db().string(), "--root", rootPath(), "--card", kCard});
  }
  void importBoth() {
    auto a = import(s1_);
    ASSERT_EQ(a.status, 0) << a.err;
    ASSERT_TRUE(lookup().out.starts_with("ACTIVE")) << lookup().out << lookup().err;
    auto b = import(s2_);
    ASSERT_EQ(b.status, 0) << b.err;
    auto l = lookup();
    ASSERT_FALSE(l.out.starts_with("ACTIVE")) << l.out;
    ASSERT_NE(l.out.find("serial 2"), std::string::npos) << l.out;
  }
  fs::path prev() const { return dir_ / "state" / "cache.db.prev"; }
  unsigned short start(std::unique_ptr<ChildProcess>& child, const std::string& extra = "") {
    return startDaemon(child, extra);
  }

  fs::path s1_, s2_;
};

struct Attack {
  const char* name;
  std::function<void(const fs::path& db, const fs::path& prev)> apply;
};

std::vector<Attack> attacks() {
  return {
      {"manifest emptied",
       [](const fs::path& db, const fs::path&) { tamper(db, "UPDATE meta SET manifest = ''"); }},
      {"hot journal", [](const fs::path& db, const fs::path&) { plantHotJournal(db); }},
      {"truncated",
       [](const fs::path& db, const fs::path&) { fs::resize_file(db, fs::file_size(db) / 2); }},
      {"deleted", [](const fs::path& db, const fs::path&) { fs::remove(db); }},
      {"older cache copied over",
       [](const fs::path& db, const fs::path& prev) {
         fs::copy_file(prev, db, fs::copy_options::overwrite_existing);
       }},
  };
}

TEST_F(TrustAttack, KbctlLookupRefusesEveryRollback) {
  for (const auto& attack : attacks()) {
    SCOPED_TRACE(attack.name);
    fs::remove_all(dir_ / "state");
    fs::create_directories(dir_ / "state");
    importBoth();
    attack.apply(db(), prev());
    auto l = lookup();
    EXPECT_EQ(l.status, 1) << l.out;
    EXPECT_TRUE(l.out.starts_with("UNVERIFIABLE")) << l.out;
    EXPECT_NE(l.err.find("error: UNVERIFIABLE: ROLLBACK:"), std::string::npos) << l.err;
  }
}

TEST_F(TrustAttack, ImportRefusesAnOldBundleWhenEveryCacheFileIsGone) {
  importBoth();
  fs::remove(db());
  fs::remove(prev());
  auto r = import(s1_);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("error: ROLLBACK:"), std::string::npos) << r.err;
  // The same serial again is a recovery, not a rollback.
  auto again = import(s2_);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_NE(lookup().out.find("serial 2"), std::string::npos);
}

TEST_F(TrustAttack, TrustStateIsItsOwnFileAndNeverFollowsALink) {
  importBoth();
  auto state = kb::cache::loadTrustState(kb::cache::trustStatePath(db()));
  ASSERT_TRUE(state) << state.error().message;
  ASSERT_TRUE(state->floorOf(db()));
  EXPECT_EQ(state->floorOf(db())->serial, 2);
  EXPECT_EQ(state->root_version, 1);
  struct stat st {};
  ASSERT_EQ(::stat(kb::cache::trustStatePath(db()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // A symlink planted in its place is refused, not read or written through.
  auto path = kb::cache::trustStatePath(db());
  fs::rename(path, dir_ / "moved.json");
  fs::create_symlink(dir_ / "moved.json", path);
  auto l = lookup();
  EXPECT_EQ(l.status, 1);
  EXPECT_NE(l.err.find("TRUST_STATE"), std::string::npos) << l.err;
  EXPECT_NE(import(s2_).status, 0);
}

TEST_F(TrustAttack, DaemonRefusesEveryRollbackWith503LogAndMetric) {
  for (const auto& attack : attacks()) {
    SCOPED_TRACE(attack.name);
    fs::remove_all(dir_ / "state");
    fs::create_directories(dir_ / "state");
    importBoth();
    std::unique_ptr<ChildProcess> d;
    auto port = start(d);
    ASSERT_NE(port, 0) << d->err();
    EXPECT_EQ(httpGet(port, "/healthz").status, 200) << d->err();
    d->signal(SIGTERM);
    ASSERT_TRUE(d->wait(5s));

    attack.apply(db(), prev());
    port = start(d);
    ASSERT_NE(port, 0) << d->err();
    auto h = httpGet(port, "/healthz");
    EXPECT_EQ(h.status, 503) << h.body;
    auto body = nlohmann::json::parse(h.body);
    EXPECT_EQ(body["code"], "ROLLBACK") << h.body;
    EXPECT_NE(body["reason"].get<std::string>().find("below the highest serial"), std::string::npos)
        << h.body;
    auto state = nlohmann::json::parse(httpGet(port, "/api/state").body);
    EXPECT_EQ(state["data"]["freshness"], "NONE");
    EXPECT_TRUE(state["data"]["serial"].is_null());
    auto metrics = httpGet(port, "/metrics").body;
    EXPECT_NE(metrics.find("kb_data_valid 0"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("kb_data_problems_total{code=\"ROLLBACK\"} 1"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("kb_data_problem{code=\"ROLLBACK\"} 1"), std::string::npos) << metrics;
    d->signal(SIGTERM);
    ASSERT_TRUE(d->wait(5s));
    const std::string log = d->err();
    std::size_t lines = 0;
    for (auto p = log.find("kiosk: data ROLLBACK:"); p != std::string::npos;
         p = log.find("kiosk: data ROLLBACK:", p + 1))
      ++lines;
    EXPECT_EQ(lines, 1u) << log;
  }
}

TEST_F(TrustAttack, RunningDaemonRefusesAnOlderCacheSwappedIn) {
  importBoth();
  std::unique_ptr<ChildProcess> d;
  auto port = start(d);
  ASSERT_NE(port, 0) << d->err();
  ASSERT_EQ(httpGet(port, "/healthz").status, 200);
  // The attacker renames the older file over the served one.
  fs::copy_file(prev(), dir_ / "state" / "old.db");
  fs::rename(dir_ / "state" / "old.db", db());
  auto h = httpGet(port, "/healthz");
  EXPECT_EQ(h.status, 503) << h.body;
  EXPECT_EQ(nlohmann::json::parse(h.body)["code"], "ROLLBACK") << h.body;
  // A good import brings it back.
  auto s3 = publish(3, "revoked");
  ASSERT_EQ(import(s3).status, 0);
  EXPECT_EQ(httpGet(port, "/healthz").status, 200);
}

// The kiosk screen for a refused cache: the "no data, call 112" error, never a status.
TEST_F(TrustAttack, RefusedCacheShowsTheCannotConfirmScreen) {
  importBoth();
  fs::copy_file(prev(), db(), fs::copy_options::overwrite_existing);
  kb::cache::CacheOptions options;
  options.trust_state = kb::cache::trustStatePath(db());
  auto cache = kb::cache::Cache::open(db(), *root_, now_, options);
  kb::kiosk::CacheSource source(cache);
  auto found = source.lookup(kCard, now_);
  EXPECT_TRUE(found.no_cache);
  ASSERT_TRUE(found.verdict);
  EXPECT_EQ(found.verdict->verdict, kb::cache::VerdictCode::Unverifiable);
  kb::kiosk::TapOutcome outcome;
  outcome.card_check = kb::card::CardCheck::Genuine;
  outcome.verdict = found.verdict;
  outcome.no_cache = found.no_cache;
  auto choice = kb::kiosk::classify(outcome);
  EXPECT_EQ(choice.screen, kb::kiosk::Screen::Error);
  EXPECT_EQ(choice.error, "NO_DATA");
  EXPECT_EQ(source.status(now_).code, "ROLLBACK");
}

// The watched source re-opens the cache when its file is replaced (no stat per
// status() call otherwise): a swap is seen at the next status, within one second of
// the last check, long before the 30 s periodic check.
TEST_F(TrustAttack, WatchedSourceSeesASwappedFileAtOnce) {
  importBoth();
  kb::cache::CacheOptions options;
  options.trust_state = kb::cache::trustStatePath(db());
  auto cache = kb::cache::Cache::open(db(), *root_, now_, options);
  kb::kiosk::CacheSource source(cache, db());
  auto before = source.status(now_);
  EXPECT_EQ(before.code, "") << before.reason;
  EXPECT_EQ(before.serial, 2);
  EXPECT_EQ(source.status(now_ + 1).serial, 2);
  fs::copy_file(prev(), dir_ / "state" / "old.db");
  fs::rename(dir_ / "state" / "old.db", db());  // as an attacker (or an import) swaps it
  EXPECT_EQ(source.status(now_ + 1).code, "ROLLBACK");
}

TEST_F(TrustAttack, ImportUnderUmask077LeavesAFileTheDaemonCanRead) {
  const mode_t old = ::umask(077);
  auto r = import(s1_);
  ::umask(old);
  ASSERT_EQ(r.status, 0) << r.err;
  struct stat st {
  }, dir_st{};
  ASSERT_EQ(::stat(db().c_str(), &st), 0);
  ASSERT_EQ(::stat((dir_ / "state").c_str(), &dir_st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(st.st_uid, dir_st.st_uid);
  EXPECT_EQ(st.st_gid, dir_st.st_gid);
}

TEST_F(TrustAttack, PlantedLockSymlinkIsNotFollowed) {
  fs::create_symlink(dir_ / "victim", fs::path(db().string() + ".lock"));
  auto r = import(s1_);
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(fs::exists(dir_ / "victim"));
}

// ---- trust root: DEV root, rotation chain --------------------------------------------

TEST_F(TrustAttack, DevRootIsRefusedOutsideDemoUnlessAllowedAndThenMarked) {
  writeRoot(1, {root_key_}, {root_key_}, dir_ / "etc" / "root.json", /*dev=*/true);
  auto refused = runToEnd(daemon(), {"--config", writeConfig()});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("public DEV root"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("allow_dev_root"), std::string::npos) << refused.err;
  auto check = runToEnd(daemon(), {"--check-config", writeConfig()});
  EXPECT_NE(check.status, 0);

  std::unique_ptr<ChildProcess> d;
  auto port = start(d, "allow_dev_root = true\n");
  ASSERT_NE(port, 0) << d->err();
  auto state = nlohmann::json::parse(httpGet(port, "/api/state").body);
  EXPECT_EQ(state["dev"], true);
  EXPECT_NE(httpGet(port, "/metrics").body.find("kb_dev_root 1"), std::string::npos);
  auto health = nlohmann::json::parse(httpGet(port, "/healthz").body);
  EXPECT_EQ(health["dev"], true);
  // Rollback protection is the trust-state file only: /healthz says whether a TPM is there.
  // No tpm_tcti: /dev/tpmrm0 is used when present; /dev/tpm0 alone is not.
  EXPECT_EQ(health["tpm"], fs::exists("/dev/tpmrm0") ? "counter"
                           : fs::exists("/dev/tpm0") ? "present_unused"
                                                     : "absent");
}

TEST_F(TrustAttack, DaemonAcceptsOnlyRootsChainedFromTheTrustedOne) {
  importBoth();  // pins root version 1
  const auto good_v1 = dir_ / "etc" / "root-1.json";
  fs::copy_file(rootPath(), good_v1);

  // An unrelated root with new keys (and its own signed cache) is refused.
  auto stranger = kb::crypto::SigningKey::generate().value();
  writeRoot(1, {stranger}, {stranger}, dir_ / "etc" / "root.json");
  std::unique_ptr<ChildProcess> d;
  auto port = start(d);
  ASSERT_NE(port, 0) << d->err();
  auto h = httpGet(port, "/healthz");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(nlohmann::json::parse(h.body)["code"], "ROOT_NOT_TRUSTED") << h.body;
  d->signal(SIGTERM);
  d->wait(5s);
  EXPECT_NE(runToEnd(daemon(), {"--check-config", writeConfig()}).status, 0);
  // An unrelated root with a higher version: not signed by version 1's keys.
  writeRoot(2, {stranger}, {stranger}, dir_ / "etc" / "root.json");
  EXPECT_NE(runToEnd(daemon(), {"--check-config", writeConfig()}).status, 0);

  // A real rotation 1 -> 2 -> 3: version 2 sits beside root.json as root-2.json.
  auto k2 = kb::crypto::SigningKey::generate().value();
  auto k3 = kb::crypto::SigningKey::generate().value();
  writeRoot(2, {root_key_, k2}, {k2}, dir_ / "etc" / "root-2.json");
  writeRoot(3, {k2, k3}, {k3}, dir_ / "etc" / "root.json");
  auto ok = runToEnd(daemon(), {"--check-config", writeConfig()});
  EXPECT_EQ(ok.status, 0) << ok.err;
  port = start(d);
  ASSERT_NE(port, 0) << d->err();
  EXPECT_EQ(httpGet(port, "/healthz").status, 200) << httpGet(port, "/healthz").body;
  d->signal(SIGTERM);
  d->wait(5s);
  auto state = kb::cache::loadTrustState(kb::cache::trustStatePath(db()));
  ASSERT_TRUE(state);
  EXPECT_EQ(state->root_version, 3);
  // Going back to version 1 is now a rollback.
  fs::copy_file(good_v1, dir_ / "etc" / "root.json", fs::copy_options::overwrite_existing);
  auto back = runToEnd(daemon(), {"--check-config", writeConfig()});
  EXPECT_NE(back.status, 0);
  EXPECT_NE(back.err.find("error: ROLLBACK:"), std::string::npos) << back.err;
}

// ---- --check-config checks what start-up checks --------------------------------------

TEST_F(TrustAttack, CheckConfigChecksWhatStartUpChecks) {
  auto ok = runToEnd(daemon(), {"--check-config", writeConfig()});
  EXPECT_EQ(ok.status, 0) << ok.err;

  auto expectFails = [&](const std::string& extra, const std::string& message) {
    // A later duplicate key is an error, so write the file whole each time.
    auto file = dir_ / "etc" / "bad.conf";
    std::ofstream(file) << extra;
    auto r = runToEnd(daemon(), {"--check-config", file.string()});
    EXPECT_NE(r.status, 0) << extra;
    EXPECT_NE(r.err.find(message), std::string::npos) << extra << "\n" << r.err;
  };
  const std::string ui = "ui_dir = " + (dir_ / "ui").string() + "\n";
  const std::string state = "state_dir = " + (dir_ / "state").string() + "\n";
  const std::string root = "root = " + rootPath() + "\n";
  expectFails(state + ui + "root = " + (dir_ / "nope.json").string() + "\n", "root: ");
  expectFails("state_dir = " + (dir_ / "nope").string() + "\n" + ui + root, "state_dir: ");
  expectFails(state + "ui_dir = " + (dir_ / "nope").string() + "\n" + root, "ui_dir: ");
  // 33 bytes, uncompressed marker, but not a point on secp128r1: file:line names it.
  expectFails(state + ui + root + "originality_key = 04" + std::string(64, '0') + "\n",
              "bad.conf:4: originality_key: ");

  // A FIFO in place of the config or the root: refused at once, no hang.
  auto fifo = dir_ / "etc" / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ChildProcess c(daemon(), {"--check-config", fifo.string()});
  auto status = c.wait(10s);
  ASSERT_TRUE(status) << "--check-config hangs on a FIFO";
  EXPECT_NE(*status, 0);
  expectFails(state + ui + "root = " + fifo.string() + "\n", "not a regular file");
}

TEST_F(TrustAttack, SerialsAreBounded) {
  // kbctl publish refuses to sign one...
  kb::cache::PublishOptions o;
  o.serial = kb::cache::kMaxSerial + 1;
  o.signed_at = now_ - 60;
  o.expires_at = now_ + kDay;
  o.out_dir = dir_ / "huge";
  fs::create_directories(o.out_dir);
  auto r = kb::cache::publish(kb::cache::testing::syntheticCards(4), *root_, {snapshot_key_}, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kb::Errc::Usage);
  // ...and a kiosk refuses one signed anyway (2^53, as in the attack), so it cannot
  // raise the trust state past every later serial.
  auto parts = kb::cache::testing::snapshotParts(kb::cache::testing::syntheticCards(4),
                                                 std::int64_t{1} << 53, now_ - 60, now_ + kDay);
  auto huge = dir_ / "huge" / "snapshot-huge.kbs";
  kb::cache::testing::writeFile(huge, kb::cache::testing::build(parts, {snapshot_key_}));
  auto imported = import(huge);
  EXPECT_NE(imported.status, 0);
  EXPECT_NE(imported.err.find("error: MALFORMED:"), std::string::npos) << imported.err;
  EXPECT_FALSE(fs::exists(db()));
  auto s1 = import(s1_);
  EXPECT_EQ(s1.status, 0) << s1.err;
}

}  // namespace
