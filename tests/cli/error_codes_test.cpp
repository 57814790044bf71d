// Every library's error codes print the names of the CLI contract (docs/contracts.md §2),
// and that table names exactly the codes there are.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "cache/errors.h"
#include "card/errors.h"
#include "common/error.h"
#include "reader.h"
#include "roster/errors.h"
#include "sync/errors.h"
#include "trust/errors.h"

namespace kb {
namespace {

struct Named {
  std::error_code code;
  std::string name;
};

// The contract's names, written out: the test's oracle.
const std::vector<Named>& allCodes() {
  static const std::vector<Named> codes = {
      {Errc::Usage, "USAGE"},
      {Errc::Io, "IO"},
      {Errc::Malformed, "MALFORMED"},
      {Errc::Truncated, "TRUNCATED"},
      {Errc::TooLarge, "TOO_LARGE"},
      {Errc::NotFound, "NOT_FOUND"},
      {Errc::Timeout, "TIMEOUT"},
      {Errc::Config, "CONFIG"},
      {Errc::DiskFull, "DISK_FULL"},
      {Errc::Internal, "INTERNAL"},
      {ReaderErrc::NoCard, "NO_CARD"},
      {ReaderErrc::ReadError, "READ_ERROR"},
      {ReaderErrc::ReaderLost, "READER_LOST"},
      {CardErrc::WrongChip, "WRONG_CHIP"},
      {CardErrc::CardNotBlank, "CARD_NOT_BLANK"},
      {CardErrc::VerifyFailed, "VERIFY_FAILED"},
      {TrustErrc::BadSignature, "BAD_SIGNATURE"},
      {TrustErrc::UnknownKey, "UNKNOWN_KEY"},
      {TrustErrc::ThresholdNotMet, "THRESHOLD_NOT_MET"},
      {TrustErrc::DuplicateSignature, "DUPLICATE_SIGNATURE"},
      {TrustErrc::RootExpired, "ROOT_EXPIRED"},
      {TrustErrc::Rollback, "ROLLBACK"},
      {RosterErrc::BadRoster, "BAD_ROSTER"},
      {CacheErrc::Expired, "EXPIRED"},
      {CacheErrc::WrongBase, "WRONG_BASE"},
      {CacheErrc::DigestMismatch, "DIGEST_MISMATCH"},
      {CacheErrc::ClockBehind, "CLOCK_BEHIND"},
      {CacheErrc::Unverifiable, "UNVERIFIABLE"},
      {CacheErrc::WrongProfile, "WRONG_PROFILE"},
      {SyncErrc::MirrorUnreachable, "MIRROR_UNREACHABLE"},
      {SyncErrc::TlsUntrusted, "TLS_UNTRUSTED"},
      {SyncErrc::HttpStatus, "HTTP_STATUS"},
      {SyncErrc::LengthMismatch, "LENGTH_MISMATCH"},
      {SyncErrc::Freeze, "FREEZE"},
  };
  return codes;
}

TEST(ErrorCodes, EveryCodePrintsItsContractName) {
  for (const auto& c : allCodes()) {
    EXPECT_EQ(codeName(c.code), c.name) << c.code.category().name() << " " << c.code.value();
    EXPECT_EQ(formatError(Error{c.code, "what happened"}), "error: " + c.name + ": what happened");
    EXPECT_TRUE(c.code) << c.name << ": a code of value 0 would read as success";
  }
}

TEST(ErrorCodes, TheTableAboveCoversEveryEnumerator) {
  // Each category's values are 1..N without gaps; N+1 is not a code (INTERNAL by default).
  std::map<const std::error_category*, int> top;
  std::map<const std::error_category*, int> count;
  for (const auto& c : allCodes()) {
    top[&c.code.category()] = std::max(top[&c.code.category()], c.code.value());
    ++count[&c.code.category()];
  }
  EXPECT_EQ(top.size(), 7u);
  for (const auto& [cat, n] : top) {
    EXPECT_EQ(count[cat], n) << cat->name();
    const auto* ours = dynamic_cast<const ErrorCategory*>(cat);
    ASSERT_NE(ours, nullptr) << cat->name();
    EXPECT_EQ(ours->codeName(n + 1), "INTERNAL")
        << cat->name() << ": a code the test does not list";
    EXPECT_EQ(ours->codeName(0), "INTERNAL") << cat->name();
  }
}

TEST(ErrorCodes, EveryNameIsOnceInTheContractAndTheContractHasNoOther) {
  const char* src = std::getenv("KB_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream in(std::string(src) + "/docs/contracts.md");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const auto from = doc.find("## 2.");
  ASSERT_NE(from, std::string::npos);
  const auto to = doc.find("\n## ", from + 1);
  const std::string section = doc.substr(from, to - from);
  std::multiset<std::string> documented;
  const std::regex row(R"(\n\| `([A-Z_]+)` \|)");
  for (auto it = std::sregex_iterator(section.begin(), section.end(), row);
       it != std::sregex_iterator(); ++it)
    documented.insert((*it)[1]);
  std::multiset<std::string> ours;
  for (const auto& c : allCodes()) ours.insert(c.name);
  EXPECT_EQ(documented, ours);
}

TEST(ErrorCodes, CodesOfDifferentLibrariesNeverCompareEqual) {
  // Same numeric value, different categories.
  EXPECT_EQ(static_cast<int>(ReaderErrc::NoCard), static_cast<int>(Errc::Usage));
  EXPECT_NE(std::error_code(ReaderErrc::NoCard), std::error_code(Errc::Usage));
  EXPECT_NE(std::error_code(TrustErrc::BadSignature), std::error_code(CacheErrc::Expired));
  Error e{CacheErrc::Unverifiable, "x"};
  EXPECT_EQ(e.code, CacheErrc::Unverifiable);
  EXPECT_NE(e.code, Errc::Io);
}

TEST(ErrorCodes, UsageExitsTwoEverythingElseOne) {
  EXPECT_EQ(exitCodeOf(Error{Errc::Usage, ""}), kExitUsage);
  EXPECT_EQ(kExitUsage, 2);
  for (const auto& c : allCodes()) {
    if (c.code != Errc::Usage) {
      EXPECT_EQ(exitCodeOf(Error{c.code, ""}), kExitFailure) << c.name;
    }
  }
}

TEST(ErrorCodes, AForeignCategoryIsInternal) {
  EXPECT_EQ(codeName(std::make_error_code(std::errc::no_space_on_device)), "INTERNAL");
  auto r = fail(std::make_error_code(std::errc::io_error), "m");
  EXPECT_EQ(formatError(r.error()), "error: INTERNAL: m");
}

TEST(ErrorCodes, FailTakesAnyLibrarysEnum) {
  auto r = fail(ReaderErrc::ReaderLost, "gone");
  EXPECT_EQ(r.error().code, ReaderErrc::ReaderLost);
  EXPECT_EQ(r.error().message, "gone");
  auto s = fail(SyncErrc::Freeze, "frozen");
  EXPECT_EQ(codeName(s.error().code), "FREEZE");
}

}  // namespace
}  // namespace kb
