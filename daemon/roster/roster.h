#pragma once
/// Reads the roster CSV of docs/contracts.md §1 into one CardRecord per card, shaped
/// for a data profile (kiosk: masked names, no NIK or birth date; staff: NIK as
/// a keyed hash plus its last four digits).

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "roster/record.h"

namespace kb::roster {

/// One bad cell or row. Printed as "file:line: column: reason".
struct RosterIssue {
  std::string file;
  long line = 0;       ///< physical line where the row starts (1 = header)
  std::string column;  ///< column name, or "-" for row-level problems
  std::string reason;
  std::string format() const;
};

struct RosterOptions {
  Profile profile = Profile::Kiosk;
  std::string nik_key;         ///< HMAC key for the staff profile's NIK hash
  std::size_t max_issues = 1;  ///< stop after this many issues (--report: unlimited)
  /// Physical line of the input -> line reported (index = line), for a CSV that
  /// holds some rows of a larger file (the streaming publisher's partitions).
  const std::vector<long>* line_map = nullptr;
};

struct Roster {
  std::vector<CardRecord> cards;      ///< sorted by card_no, one per card
  std::vector<std::string> warnings;  ///< e.g. unknown columns ignored
  std::size_t rows = 0;
};

/// Parses `csv` (the whole file); `file_name` only labels issues.
/// On any bad row returns every issue found (up to max_issues) and no records.
std::expected<Roster, std::vector<RosterIssue>> parseRoster(std::string_view csv,
                                                            std::string_view file_name,
                                                            const RosterOptions& options);

/// "SITI NURHALIZA" -> "SIT* NUR******": per word, the first up-to-three
/// characters (never the whole word) then one '*' per hidden character.
std::string maskName(std::string_view full_name);

}  // namespace kb::roster
