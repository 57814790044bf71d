// The audit log: chain, checkpoints, recovery after a torn write, and each kind
// of tampering caught by verify() with the line it happened on.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
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

// appendPending() writes and returns; whenDurable() reports the line only after
// a sync that started once it was written, and lines written while a sync runs
// share the next one. No thread waits: the callbacks come from the log's own.
TEST_F(AuditTest, PendingAppendsAreReportedOnlyAfterTheirSync) {
  constexpr int kLines = 6;
  std::unique_ptr<AuditLog> log;
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  std::vector<std::uint64_t> lines_at_sync;  // written lines when each sync started
  LogOptions o;
  o.checkpoint_every = 1000;
  o.sync = [&](int fd) {
    lines_at_sync.push_back(log->stats().lines);  // the sync thread only
    if (calls++ == 0)
      while (!release.load()) std::this_thread::yield();  // hold the first sync open
    return ::fdatasync(fd);
  };
  auto opened = AuditLog::open(path_, *key_, o);
  ASSERT_TRUE(opened);
  log = std::move(*opened);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::uint64_t, bool>> reported;
  auto report = [&](std::uint64_t seq) {
    return [&, seq](Result<void> r) {
      std::lock_guard lock(mu);
      reported.emplace_back(seq, r.has_value());
      cv.notify_all();
    };
  };
  auto first = log->appendPending(entry(0), kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 1u);
  log->whenDurable(*first, report(*first));
  while (calls.load() == 0) std::this_thread::yield();  // the first sync is running
  for (int i = 1; i < kLines; ++i) {
    auto seq = log->appendPending(entry(i), kNow);
    ASSERT_TRUE(seq);
    log->whenDurable(*seq, report(*seq));
  }
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(reported.empty()) << "reported before any sync finished";
  }
  release = true;
  std::unique_lock lock(mu);
  ASSERT_TRUE(
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return reported.size() == kLines; }));
  for (const auto& [seq, ok] : reported) EXPECT_TRUE(ok) << seq;
  EXPECT_EQ(reported.front().first, 1u) << "the first line first";
  EXPECT_EQ(log->stats().syncs, 2u) << "one sync for the first line, one for the five behind it";
  ASSERT_EQ(lines_at_sync.size(), 2u);
  EXPECT_EQ(lines_at_sync[1], static_cast<std::uint64_t>(kLines));
  lock.unlock();
  // Already durable: reported at once, on the caller's thread.
  bool at_once = false;
  log->whenDurable(*first, [&](Result<void> r) { at_once = r.has_value(); });
  EXPECT_TRUE(at_once);
  log.reset();
  EXPECT_EQ(brokenAt(), "ok");
}

TEST_F(AuditTest, LinesArrivingWithinTheSyncIntervalShareTheNextSync) {
  // Unlike the test above, no sync is held open: the lines arrive after the
  // first sync has ended, and only the interval makes them wait for one another.
  constexpr int kLines = 5;
  std::vector<std::uint64_t> lines_at_sync;
  std::unique_ptr<AuditLog> log;
  LogOptions o;
  o.checkpoint_every = 1000;
  o.min_sync_interval = std::chrono::seconds(1);  // far longer than kLines appends take
  o.sync = [&](int fd) {
    lines_at_sync.push_back(log->stats().lines);  // the sync thread only
    return ::fdatasync(fd);
  };
  auto opened = AuditLog::open(path_, *key_, o);
  ASSERT_TRUE(opened);
  log = std::move(*opened);
  std::mutex mu;
  std::condition_variable cv;
  int reported = 0;
  auto report = [&](Result<void> r) {
    EXPECT_TRUE(r.has_value());
    std::lock_guard lock(mu);
    ++reported;
    cv.notify_all();
  };
  auto wait_for = [&](int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return reported == n; });
  };
  // A lone line on a quiet log is synced at once (its sync is the first).
  auto first = log->appendPending(entry(0), kNow);
  ASSERT_TRUE(first);
  log->whenDurable(*first, report);
  ASSERT_TRUE(wait_for(1));
  EXPECT_EQ(log->stats().syncs, 1u);
  for (int i = 1; i <= kLines; ++i) {
    auto seq = log->appendPending(entry(i), kNow);
    ASSERT_TRUE(seq);
    log->whenDurable(*seq, report);
    // Time for a sync thread without the interval to sync each line alone.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(wait_for(1 + kLines));
  EXPECT_EQ(log->stats().syncs, 2u) << "the five later lines share the second sync";
  ASSERT_EQ(lines_at_sync.size(), 2u);
  EXPECT_EQ(lines_at_sync[1], static_cast<std::uint64_t>(1 + kLines));
  log.reset();
  EXPECT_EQ(brokenAt(), "ok");
}

TEST_F(AuditTest, AFailedSyncFailsEveryPendingLineAndLaterAppends) {
  LogOptions o;
  o.sync = [](int) {
    errno = EIO;
    return -1;
  };
  auto log = AuditLog::open(path_, *key_, o);
  ASSERT_TRUE(log);
  std::mutex mu;
  std::condition_variable cv;
  int failed = 0, succeeded = 0;
  for (int i = 0; i < 3; ++i) {
    auto seq = (*log)->appendPending(entry(i), kNow);
    ASSERT_TRUE(seq);
    (*log)->whenDurable(*seq, [&](Result<void> r) {
      std::lock_guard lock(mu);
      if (!r && r.error().code == Errc::Io) ++failed;
      if (r) ++succeeded;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return failed + succeeded == 3; }));
  }
  EXPECT_EQ(failed, 3);
  auto later = (*log)->appendPending(entry(9), kNow);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, Errc::Io);
}

TEST_F(AuditTest, FinishPendingServesEveryWaiterFirst) {
  auto log = open();
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    auto seq = log->appendPending(entry(i), kNow);
    ASSERT_TRUE(seq);
    log->whenDurable(*seq, [&](Result<void> r) { ok += r.has_value() ? 1 : 0; });
  }
  log->finishPending();
  EXPECT_EQ(ok.load(), 20);
  log.reset();
  EXPECT_EQ(brokenAt(), "ok");
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
