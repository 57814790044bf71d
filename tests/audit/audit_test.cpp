// The audit log: chain, checkpoints, recovery after a torn write, and each kind
// of tampering caught by verify() with the line it happened on.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "common/encoding.h"
#include "fixtures.h"

namespace kb::audit {
namespace {

using cache::testing::kNow;
using cache::testing::TempDir;

std::vector<std::string> readLines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

void writeLines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::ofstream out(p, std::ios::trunc);
  for (const auto& l : lines) out << l << '\n';
}

Entry entry(int i) {
  Entry e;
  e.operator_cn = "operator-" + std::to_string(i % 3);
  e.action = i % 2 ? "search" : "view";
  e.query = {{"name", "Siti Nur"}, {"rt", "003"}};
  e.results = {"KB-0001-000" + std::to_string(i % 10)};
  return e;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = crypto::SigningKey::generate();
    ASSERT_TRUE(k);
    key_.emplace(*k);
    path_ = dir_ / "audit.log";
  }
  std::unique_ptr<AuditLog> open(std::uint32_t every = 5) {
    LogOptions o;
    o.checkpoint_every = every;
    o.journal = [this](std::string_view s) { journal_ += std::string(s) + "\n"; };
    auto log = AuditLog::open(path_, *key_, o);
    EXPECT_TRUE(log) << log.error().message;
    return log ? std::move(*log) : nullptr;
  }
  void fill(int n) {
    auto log = open();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(log->append(entry(i), kNow + i));
  }
  std::string brokenAt() {
    auto r = verify(path_, key_->publicKey(), parseJournal(journal_));
    if (r) return "ok";
    EXPECT_EQ(r.error().code, Errc::Malformed);
    return r.error().message.substr(0, r.error().message.find(':'));
  }
  TempDir dir_;
  std::optional<crypto::SigningKey> key_;
  std::filesystem::path path_;
  std::string journal_;
};

TEST_F(AuditTest, ChainAndSignedCheckpointsVerify) {
  fill(12);
  auto lines = readLines(path_);
  ASSERT_EQ(lines.size(), 14u);  // 12 entries + checkpoints after 5 and 10
  EXPECT_NE(lines[5].find("\"action\":\"checkpoint\""), std::string::npos);
  auto r = verify(path_, key_->publicKey());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->lines, 14u);
  EXPECT_EQ(r->checkpoints, 2u);
  EXPECT_EQ(parseJournal(journal_).size(), 2u);
  EXPECT_NE(lines[0].find("\"operator\":\"operator-0\""), std::string::npos);
  EXPECT_NE(lines[0].find("\"results\":[\"KB-0001-0000\"]"), std::string::npos);
}

TEST_F(AuditTest, ContinuesTheChainAfterReopen) {
  fill(3);
  fill(3);
  auto r = verify(path_, key_->publicKey());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->lines, 6u);  // the checkpoint count starts again at each open
}

TEST_F(AuditTest, EditedLineIsNamed) {
  fill(8);
  auto lines = readLines(path_);
  auto pos = lines[2].find("operator-2");
  ASSERT_NE(pos, std::string::npos);
  lines[2].replace(pos, 10, "operator-9");
  writeLines(path_, lines);
  EXPECT_EQ(brokenAt(), "line 3");
}

TEST_F(AuditTest, EditedLineWithRecomputedHashIsNamed) {
  fill(8);
  auto lines = readLines(path_);
  std::string& l = lines[3];
  auto pos = l.find("operator-0");
  ASSERT_NE(pos, std::string::npos);
  l.replace(pos, 10, "operator-9");
  auto h = l.rfind(",\"hash\":\"");
  std::string body = l.substr(0, h);
  l = body + ",\"hash\":\"" + hexEncode(crypto::sha256(body)) + "\"}";
  writeLines(path_, lines);
  EXPECT_EQ(brokenAt(), "line 4");
}

TEST_F(AuditTest, DeletedLineIsNamed) {
  fill(8);
  auto lines = readLines(path_);
  lines.erase(lines.begin() + 1);
  writeLines(path_, lines);
  EXPECT_EQ(brokenAt(), "line 2");
}

TEST_F(AuditTest, InsertedLineIsNamed) {
  fill(8);
  auto lines = readLines(path_);
  lines.insert(lines.begin() + 4, lines[1]);  // a replayed copy
  writeLines(path_, lines);
  EXPECT_EQ(brokenAt(), "line 5");
}

TEST_F(AuditTest, ReorderedLinesAreNamed) {
  fill(8);
  auto lines = readLines(path_);
  std::swap(lines[2], lines[3]);
  writeLines(path_, lines);
  EXPECT_EQ(brokenAt(), "line 3");
}

TEST_F(AuditTest, TailCutAfterACheckpointIsNamedFromTheJournal) {
  fill(12);  // checkpoints at seq 6 and 12
  auto lines = readLines(path_);
  lines.resize(6);  // ends right after the first checkpoint: a valid chain on its own
  writeLines(path_, lines);
  EXPECT_TRUE(verify(path_, key_->publicKey())) << "without the journal the cut is invisible";
  EXPECT_EQ(brokenAt(), "line 7");
}

TEST_F(AuditTest, ForgedCheckpointSignatureIsNamed) {
  fill(6);
  auto lines = readLines(path_);
  auto other = crypto::SigningKey::generate();
  ASSERT_TRUE(other);
  auto r = verify(path_, other->publicKey());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.substr(0, 7), "line 6:");
}

TEST_F(AuditTest, TornLastLineIsIgnoredByVerifyAndCutOnOpen) {
  fill(4);
  {
    std::ofstream out(path_, std::ios::app);
    out << "{\"seq\":5,\"time\":\"2026-11-21T00:00:05Z\",\"oper";
  }
  auto r = verify(path_, key_->publicKey());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->torn_tail);
  EXPECT_EQ(r->lines, 4u);
  fill(2);
  EXPECT_NE(journal_.find("incomplete last line"), std::string::npos);
  auto again = verify(path_, key_->publicKey());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->torn_tail);
  EXPECT_EQ(again->lines, 6u);
}

TEST_F(AuditTest, OpenRefusesALogWhoseLastLineIsNotIntact) {
  fill(3);
  auto lines = readLines(path_);
  lines.back()[10] = 'X';
  writeLines(path_, lines);
  LogOptions o;
  EXPECT_FALSE(AuditLog::open(path_, *key_, o));
}

TEST_F(AuditTest, AppendFailsWhenTheLogCannotBeWritten) {
  auto log = open();
  ASSERT_TRUE(log->append(entry(1), kNow));
  // The file is replaced by a directory: reopening fails, no log, no answer.
  std::filesystem::remove(path_);
  std::filesystem::create_directory(path_);
  LogOptions o;
  EXPECT_FALSE(AuditLog::open(path_, *key_, o));
}

// Group commit: while one sync runs, the other appenders write their lines and
// wait; the next sync covers all of them. Nobody returns before a sync that
// started after its line was written.
TEST_F(AuditTest, ConcurrentAppendsShareOneSync) {
  constexpr int kThreads = 8;
  std::atomic<int> returned{0}, calls{0};
  std::atomic<bool> early_return{false};
  std::unique_ptr<AuditLog> log;
  LogOptions o;
  o.checkpoint_every = 1000;
  o.journal = [this](std::string_view s) { journal_ += std::string(s) + "\n"; };
  o.sync = [&](int fd) {
    if (calls++ == 0) {
      // Hold the first sync until every thread has written its line.
      while (log->stats().lines < kThreads) std::this_thread::yield();
      if (returned.load() != 0) early_return = true;
    }
    return ::fdatasync(fd);
  };
  auto opened = AuditLog::open(path_, *key_, o);
  ASSERT_TRUE(opened);
  log = std::move(*opened);
  std::vector<std::thread> threads;
  std::vector<std::uint64_t> seqs(kThreads);
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      auto r = log->append(entry(i), kNow);
      if (!r)
        ++failures;
      else
        seqs[static_cast<std::size_t>(i)] = *r;
      ++returned;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(early_return.load()) << "an append returned before its line was synced";
  EXPECT_EQ(log->stats().lines, static_cast<std::uint64_t>(kThreads));
  EXPECT_EQ(log->stats().syncs, 2u) << "the first sync, then one for the seven lines behind it";
  std::sort(seqs.begin(), seqs.end());
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(seqs[static_cast<std::size_t>(i)], i + 1u);
  log.reset();
  EXPECT_EQ(brokenAt(), "ok");
}

// A failed sync fails every append waiting on it and every later one: no
// answer is given for a line that may not be on disk.
TEST_F(AuditTest, AFailedSyncFailsEveryWaitingAndLaterAppend) {
  constexpr int kThreads = 4;
  std::unique_ptr<AuditLog> log;
  std::atomic<int> calls{0};
  LogOptions o;
  o.sync = [&](int) {
    ++calls;
    while (log->stats().lines < kThreads) std::this_thread::yield();
    errno = EIO;
    return -1;
  };
  auto opened = AuditLog::open(path_, *key_, o);
  ASSERT_TRUE(opened);
  log = std::move(*opened);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      auto r = log->append(entry(i), kNow);
      if (!r && r.error().code == Errc::Io) ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), kThreads);
  EXPECT_EQ(calls.load(), 1);
  auto later = log->append(entry(9), kNow);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, Errc::Io);
}

// A checkpoint reaches the journal only once it is on disk.
TEST_F(AuditTest, CheckpointGoesToTheJournalAfterItsSync) {
  bool journal_before_sync = false;
  int synced = 0;
  LogOptions o;
  o.checkpoint_every = 1;
  o.journal = [&](std::string_view s) {
    if (synced == 0) journal_before_sync = true;
    journal_ += std::string(s) + "\n";
  };
  o.sync = [&](int fd) {
    ++synced;
    return ::fdatasync(fd);
  };
  auto log = AuditLog::open(path_, *key_, o);
  ASSERT_TRUE(log);
  ASSERT_TRUE((*log)->append(entry(1), kNow));
  EXPECT_FALSE(journal_before_sync);
  EXPECT_EQ(synced, 1) << "the entry and its checkpoint in one sync";
  EXPECT_NE(journal_.find("checkpoint seq=2 "), std::string::npos) << journal_;
}

TEST_F(AuditTest, TailReturnsTheNewestLines) {
  fill(12);
  auto log = open();
  auto t = log->tail(3);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 3u);
  EXPECT_NE(t->back().find("\"seq\":14"), std::string::npos);
}

TEST_F(AuditTest, NodeKeyIsCreatedOnceThenReused) {
  auto k1 = loadOrCreateNodeKey(dir_ / "audit-node.key");
  ASSERT_TRUE(k1);
  auto k2 = loadOrCreateNodeKey(dir_ / "audit-node.key");
  ASSERT_TRUE(k2);
  EXPECT_EQ(k1->publicKey().raw(), k2->publicKey().raw());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "audit-node.key.pub"));
  auto perms = std::filesystem::status(dir_ / "audit-node.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
}

}  // namespace
}  // namespace kb::audit
