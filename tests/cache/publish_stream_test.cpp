// The streaming publisher (publishRoster) against the in-memory one
// (parseRoster + publish): the same bundles byte for byte, the same roster
// issues with the file's own line numbers, at partition sizes that force many
// partitions.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "cache/bundle.h"
#include "cache/publish.h"
#include "fixtures.h"
#include "roster/errors.h"
#include "roster/roster.h"
#include "synthetic/synthetic.h"

namespace kb::cache {
namespace {

using testing::kDay;
using testing::kNow;

std::string synthCsv(std::uint64_t cards, double change_percent = 0) {
  synthetic::SynthOptions so;
  so.cards = cards;
  so.seed = 1;
  so.change_percent = change_percent;
  so.change_seed = 7;
  std::ostringstream out;
  EXPECT_TRUE(synthetic::writeSyntheticRoster(out, so));
  return out.str();
}

// The data rows in a shuffled order: a card's rows are no longer adjacent.
std::string shuffledRows(const std::string& csv) {
  std::vector<std::string> lines;
  std::istringstream in(csv);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::mt19937 rng(42);
  std::shuffle(lines.begin() + 1, lines.end(), rng);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class PublishStream : public ::testing::Test {
 protected:
  testing::TempDir dir;
  testing::Keys keys = testing::makeKeys();
  trust::TrustRoot root = testing::makeRoot(keys);

  PublishOptions options(std::int64_t serial, const std::string& out) {
    PublishOptions o;
    o.serial = serial;
    o.signed_at = kNow;
    o.expires_at = kNow + 30 * kDay;
    o.out_dir = dir / out;
    return o;
  }
  // In memory, as kbctl publish did before streaming.
  Result<PublishResult> inMemory(const std::string& csv, const PublishOptions& o) {
    auto parsed = roster::parseRoster(csv, "roster.csv", {});
    if (!parsed) return fail(RosterErrc::BadRoster, parsed.error()[0].format());
    return publish(std::move(parsed->cards), root, {keys.snapshot}, o);
  }
  Result<PublishResult> streamed(const std::string& csv, const PublishOptions& o,
                                 std::uint64_t partition_bytes,
                                 std::vector<roster::RosterIssue>* issues_out = nullptr,
                                 roster::RosterOptions ropt = {}) {
    testing::writeFile(dir / "roster.csv", csv);
    PublishOptions so = o;
    so.partition_bytes = partition_bytes;
    std::vector<roster::RosterIssue> issues;
    std::vector<std::string> warnings;
    auto r = publishRoster(dir / "roster.csv", ropt, root, {keys.snapshot}, so, issues, warnings);
    if (issues_out) *issues_out = issues;
    return r;
  }
};

TEST_F(PublishStream, SnapshotIsByteIdenticalToTheInMemoryPublisher) {
  const std::string csv = shuffledRows(synthCsv(3000));
  auto want = inMemory(csv, options(1, "mem"));
  ASSERT_TRUE(want) << want.error().message;
  // One partition (the default size), 64 and 512 partitions (the cap).
  for (std::uint64_t part : {std::uint64_t{16} << 20, std::uint64_t{8192}, std::uint64_t{1}}) {
    SCOPED_TRACE(part);
    auto got = streamed(csv, options(1, "stream-" + std::to_string(part)), part);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->records, want->records);
    EXPECT_EQ(testing::readAll(got->snapshot), testing::readAll(want->snapshot));
    // Nothing left behind but the bundle.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(got->snapshot.parent_path()))
      ++files;
    EXPECT_EQ(files, 1u);
  }
  EXPECT_GE(want->records, 3000u);
}

TEST_F(PublishStream, DeltaAgainstABaseIsByteIdentical) {
  auto base = inMemory(synthCsv(2000), options(1, "base"));
  ASSERT_TRUE(base);
  const std::string next = shuffledRows(synthCsv(2000, 5));
  PublishOptions mo = options(2, "mem");
  mo.base = base->snapshot;
  auto want = inMemory(next, mo);
  ASSERT_TRUE(want) << want.error().message;
  ASSERT_TRUE(want->delta);
  PublishOptions so = options(2, "stream");
  so.base = base->snapshot;
  auto got = streamed(next, so, 4096);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->delta);
  EXPECT_GT(got->delta_entries, 0u);
  EXPECT_EQ(got->delta_entries, want->delta_entries);
  EXPECT_EQ(testing::readAll(*got->delta), testing::readAll(*want->delta));
  EXPECT_EQ(testing::readAll(got->snapshot), testing::readAll(want->snapshot));
}

TEST_F(PublishStream, ConflictingRowsFarApartAreCaughtWithTheirLines) {
  // Card 0000003's three rows, one moved to the end with another kelurahan; a
  // quoted line break in a name shifts the physical lines after it.
  std::string csv = synthCsv(400);
  auto first3 = csv.find("KB-1571-0000003");
  auto eol = csv.find('\n', first3);
  std::string row = csv.substr(first3, eol + 1 - first3);
  csv.erase(first3, eol + 1 - first3);
  auto k = row.find("Talang Jauh");
  ASSERT_NE(k, std::string::npos);
  row.replace(k, 11, "Talang Banjar");
  csv += row;
  auto name = csv.find("Budi Nasrul");
  csv.replace(name, 11, "\"Budi\nNasrul\"");
  // And a bad NIK somewhere in the middle.
  auto mid = csv.find("KB-1571-0000200");
  auto nik = csv.find(",15710", mid);
  csv.replace(nik + 1, 16, "15710x0000000000");

  roster::RosterOptions all;
  all.max_issues = static_cast<std::size_t>(-1);
  auto want = roster::parseRoster(csv, (dir / "roster.csv").string(), all);
  ASSERT_FALSE(want);
  ASSERT_EQ(want.error().size(), 2u);
  for (std::uint64_t part : {std::uint64_t{1} << 20, std::uint64_t{2048}}) {
    SCOPED_TRACE(part);
    std::vector<roster::RosterIssue> issues;
    auto got = streamed(csv, options(1, "out"), part, &issues, all);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, RosterErrc::BadRoster);
    ASSERT_EQ(issues.size(), want.error().size());
    for (std::size_t i = 0; i < issues.size(); ++i)
      EXPECT_EQ(issues[i].format(), want.error()[i].format());
    EXPECT_FALSE(std::filesystem::exists(dir / "out" / "snapshot-1.kbs"));
    // Without --report: the first issue only, as the whole-file parser gives it.
    auto one = streamed(csv, options(1, "out"), part, &issues);
    ASSERT_FALSE(one);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].format(), want.error()[0].format());
  }
  EXPECT_NE(want.error()[1].format().find("kelurahan: differs from line"), std::string::npos)
      << want.error()[1].format();
}

TEST_F(PublishStream, HeaderProblemsAreReportedOnce) {
  std::vector<roster::RosterIssue> issues;
  roster::RosterOptions all;
  all.max_issues = static_cast<std::size_t>(-1);
  std::string csv = synthCsv(200);
  csv.replace(0, 7, "kartu");  // card_no column renamed: required column missing
  auto got = streamed(csv, options(1, "out"), 1024, &issues, all);
  ASSERT_FALSE(got);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].column, "card_no");
  got = streamed("", options(1, "out"), 1024, &issues, all);
  ASSERT_FALSE(got);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].reason.find("empty file"), std::string::npos);
}

TEST_F(PublishStream, AnyNumberOfThreadsGivesTheSameBundleAndIssues) {
  const std::string csv = shuffledRows(synthCsv(3000));
  auto want = inMemory(csv, options(1, "mem"));
  ASSERT_TRUE(want) << want.error().message;
  for (std::size_t threads : {1u, 2u, 4u, 7u}) {
    SCOPED_TRACE(threads);
    auto o = options(1, "t" + std::to_string(threads));
    o.threads = threads;
    auto got = streamed(csv, o, 8192);  // 64 partitions shared among the threads
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(testing::readAll(got->snapshot), testing::readAll(want->snapshot));
  }
  // A bad row: the same first issue, whichever thread parsed its partition.
  std::string bad = csv;
  auto nik = bad.find(",15710", bad.find("KB-1571-0000200"));
  ASSERT_NE(nik, std::string::npos);
  bad.replace(nik + 1, 16, "15710x0000000000");
  std::vector<roster::RosterIssue> one, four;
  auto o1 = options(1, "b1");
  o1.threads = 1;
  auto o4 = options(1, "b4");
  o4.threads = 4;
  ASSERT_FALSE(streamed(bad, o1, 8192, &one));
  ASSERT_FALSE(streamed(bad, o4, 8192, &four));
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(four.size(), 1u);
  EXPECT_EQ(one[0].format(), four[0].format());
}

}  // namespace
}  // namespace kb::cache
