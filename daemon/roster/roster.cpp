#include "roster/roster.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <numeric>
#include <tuple>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/crypto.h"
#include "roster/csv_reader.h"
#include "roster/nik_key.h"
#include "schema/schema.h"

namespace kb::roster {
namespace {

enum Col : std::size_t {
  CardNo,
  CardUid,
  Nik,
  FullName,
  BirthDate,
  Kecamatan,
  Kelurahan,
  Rt,
  Category,
  Occupation,
  CardStatus,
  Program,
  MembershipNo,
  CoverageStatus,
  ValidFrom,
  ValidTo,
  Funder,
  LegalBasis,
  Activity,
  SkRtNo,
  ColCount
};

struct ColumnSpec {
  std::string_view name;
  bool required;
};

// docs/contracts.md §1, in the table's order; rows are checked in this order too.
constexpr std::array<ColumnSpec, ColCount> kColumns{{
    {"card_no", true},
    {"card_uid", false},
    {"nik", true},
    {"full_name", true},
    {"birth_date", true},
    {"kecamatan", true},
    {"kelurahan", true},
    {"rt", true},
    {"category", true},
    {"occupation", false},
    {"card_status", true},
    {"program", false},
    {"membership_no", false},
    {"coverage_status", false},
    {"valid_from", false},
    {"valid_to", false},
    {"funder", false},
    {"legal_basis", false},
    {"activity", false},
    {"sk_rt_no", false},
}};

// Required as soon as the header has a `program` column.
constexpr std::array<Col, 4> kCoverageRequired{CoverageStatus, ValidFrom, ValidTo, Funder};
constexpr std::array<Col, 8> kCoverageColumns{MembershipNo, CoverageStatus, ValidFrom, ValidTo,
                                              Funder,       LegalBasis,     Activity,  SkRtNo};

// The closed lists and the card-number rule are the domain schema's (schema/schema.h).
using schema::kCardStatuses;
using schema::kCategories;
using schema::kCoverageStatuses;
using schema::kPrograms;

// Free-text columns in which a line break (legal inside a quoted RFC 4180 field, and
// common in spreadsheet exports) is read as one space, with a warning.
constexpr std::array<Col, 8> kJoinedTextColumns{FullName, Kecamatan,  Kelurahan, Occupation,
                                                Funder,   LegalBasis, Activity,  SkRtNo};
// Warnings about joined lines beyond this many are counted, not listed.
constexpr std::size_t kMaxLineBreakWarnings = 100;

constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);
// Five programmes with years of history and activity cover stay far below this.
constexpr std::size_t kMaxCoveragesPerCard = 64;

template <std::size_t N>
std::string oneOf(const std::array<std::string_view, N>& values) {
  std::string out = "must be one of ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i) out += ", ";
    out += values[i];
  }
  return out;
}

template <std::size_t N>
bool isOneOf(std::string_view v, const std::array<std::string_view, N>& values) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isHex(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool allDigits(std::string_view v) {
  return std::all_of(v.begin(), v.end(), isDigit);
}

using schema::isCardNo;

bool isMembershipNo(std::string_view v) {
  if (v.size() > 32) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

// Free text: bounded length, no control characters (line breaks only where
// `multiline`, e.g. an activity description).
std::optional<std::string> checkText(std::string_view v, std::size_t max_chars, bool multiline) {
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0x7F || (c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))))
      return multiline ? "contains a control character"
                       : "contains a line break or control character";
  }
  if (countCodePoints(v) > max_chars)
    return "is longer than " + std::to_string(max_chars) + " characters";
  return std::nullopt;
}

std::string toLower(std::string_view v) {
  std::string out(v);
  for (char& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// What a card's first valid row said about the card itself, kept to check the
// card's later rows against (the record alone has lost NIK, name and birth date
// in the kiosk profile). Views point into the CSV buffer, or into `owned_` for
// the rare cell the reader had to unescape.
struct FirstRow {
  long line;
  bool no_coverage;
  std::string_view nik;
  std::string_view full_name;
  std::string_view birth_date;
};

// card_no -> position in the card vector. Open addressing over a flat array:
// a million cards would otherwise cost a million node allocations.
class CardIndex {
 public:
  void reserve(std::size_t n) {
    std::size_t size = 16;
    while (size < 2 * n) size *= 2;
    slots_.assign(size, 0);
  }
  // The card's position, or `next` after recording it as new (with inserted = true).
  std::pair<std::size_t, bool> findOrInsert(std::string_view card_no, std::size_t next,
                                            const std::vector<CardRecord>& cards) {
    if (2 * (used_ + 1) > slots_.size()) grow(cards);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = std::hash<std::string_view>{}(card_no)&mask;; i = (i + 1) & mask) {
      if (slots_[i] == 0) {
        slots_[i] = next + 1;
        ++used_;
        return {next, true};
      }
      if (cards[slots_[i] - 1].card_no == card_no) return {slots_[i] - 1, false};
    }
  }

 private:
  void grow(const std::vector<CardRecord>& cards) {
    std::vector<std::size_t> old = std::move(slots_);
    reserve(std::max<std::size_t>(old.size(), 8));
    std::size_t mask = slots_.size() - 1;
    for (std::size_t v : old) {
      if (v == 0) continue;
      std::size_t i = std::hash<std::string_view>{}(cards[v - 1].card_no) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = v;
    }
  }
  std::vector<std::size_t> slots_;  // card position + 1; 0 = empty
  std::size_t used_ = 0;
};

class Parser {
 public:
  Parser(std::string_view file, const RosterOptions& options)
      : file_(file), options_(options), max_issues_(std::max<std::size_t>(options.max_issues, 1)) {
    col_.fill(kNoColumn);
  }

  std::expected<Roster, std::vector<RosterIssue>> run(std::string_view csv);

 private:
  // False once the issue limit is reached: the caller stops.
  bool issue(long line, std::string_view column, std::string reason) {
    if (full()) return false;
    issues_.push_back(
        RosterIssue{std::string(file_), line, std::string(column), std::move(reason)});
    return issues_.size() < max_issues_;
  }
  bool full() const { return issues_.size() >= max_issues_; }
  long mapLine(long line) const {
    const auto* m = options_.line_map;
    if (!m || line < 0 || static_cast<std::size_t>(line) >= m->size()) return line;
    return (*m)[static_cast<std::size_t>(line)];
  }
  bool readHeader(const CsvRecord& header);
  void readRow(const CsvRecord& row);
  void joinLineBreaks(long line);
  bool checkRow(long line);
  void addRow(long line);
  std::string_view cell(Col c) const { return cells_[c]; }
  // A view that outlives the current record.
  std::string_view keep(std::string_view v) {
    auto at = reinterpret_cast<std::uintptr_t>(v.data());
    auto begin = reinterpret_cast<std::uintptr_t>(csv_.data());
    if (at >= begin && at + v.size() <= begin + csv_.size()) return v;
    return owned_.emplace_back(v);
  }
  std::string columnLabel(std::size_t field) const {
    if (field >= 1 && field <= header_.size() && !header_[field - 1].empty())
      return header_[field - 1];
    return "field " + std::to_string(field);
  }
  Roster finish();

  std::string_view file_;
  const RosterOptions& options_;
  std::size_t max_issues_;
  std::vector<RosterIssue> issues_;
  std::vector<std::string> header_;
  std::array<std::size_t, ColCount> col_{};  // field index per known column
  std::array<std::string_view, ColCount> cells_{};
  Roster roster_;
  std::vector<FirstRow> first_;
  CardIndex index_;
  std::size_t joined_cells_ = 0;
  std::string_view csv_;
  std::deque<std::string> owned_;  // deque: growing it never moves the strings
};

bool Parser::readHeader(const CsvRecord& header_record) {
  CsvRecord header = header_record;
  header.line = mapLine(header.line);
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    std::string_view name = header.fields[i];
    header_.emplace_back(name);
    if (name.empty()) {
      if (!issue(header.line, "field " + std::to_string(i + 1), "empty column name")) return false;
      continue;
    }
    auto known = std::find_if(kColumns.begin(), kColumns.end(),
                              [&](const ColumnSpec& s) { return s.name == name; });
    if (known == kColumns.end()) {
      if (!checkText(name, 64, false))
        roster_.warnings.push_back(std::string(file_) + ":" + std::to_string(header.line) +
                                   ": column '" + std::string(name) +
                                   "' is not known and is ignored");
      else
        roster_.warnings.push_back(std::string(file_) + ":" + std::to_string(header.line) +
                                   ": field " + std::to_string(i + 1) + ": unknown column ignored");
      continue;
    }
    auto c = static_cast<std::size_t>(known - kColumns.begin());
    if (col_[c] != kNoColumn) {
      if (!issue(header.line, name,
                 "column appears twice (fields " + std::to_string(col_[c] + 1) + " and " +
                     std::to_string(i + 1) + ")"))
        return false;
      continue;
    }
    col_[c] = i;
  }
  for (std::size_t c = 0; c < ColCount; ++c) {
    bool needed =
        kColumns[c].required ||
        (col_[Program] != kNoColumn && std::find(kCoverageRequired.begin(), kCoverageRequired.end(),
                                                 c) != kCoverageRequired.end());
    if (needed && col_[c] == kNoColumn) {
      std::string why = kColumns[c].required ? "required column is missing"
                                             : "column is required when the header has 'program'";
      if (!issue(header.line, kColumns[c].name, why)) return false;
    }
  }
  return issues_.empty();
}

// Cell checks for one row; true if the row is clean enough to group.
bool Parser::checkRow(long line) {
  std::size_t before = issues_.size();
  auto bad = [&](Col c, std::string reason) { issue(line, kColumns[c].name, std::move(reason)); };
  auto required_text = [&](Col c, std::size_t max_chars) {
    std::string_view v = cell(c);
    if (v.empty()) return bad(c, "is empty");
    if (auto why = checkText(v, max_chars, false)) bad(c, *why);
  };
  auto optional_text = [&](Col c, std::size_t max_chars, bool multiline) {
    if (auto why = checkText(cell(c), max_chars, multiline)) bad(c, *why);
  };
  auto enum_cell = [&](Col c, const auto& values) {
    if (cell(c).empty()) return bad(c, "is empty");
    if (!isOneOf(cell(c), values)) bad(c, oneOf(values));
  };

  if (cell(CardNo).empty())
    bad(CardNo, "is empty");
  else if (!isCardNo(cell(CardNo)))
    bad(CardNo, "must be 6-24 characters of 0-9, A-Z and '-'");
  if (std::string_view uid = cell(CardUid); !uid.empty()) {
    if ((uid.size() != 8 && uid.size() != 14) || !std::all_of(uid.begin(), uid.end(), isHex))
      bad(CardUid, "must be 8 or 14 hex digits (or empty)");
  }
  if (cell(Nik).size() != 16 || !allDigits(cell(Nik))) bad(Nik, "must be 16 digits");
  {
    std::string_view name = cell(FullName);
    if (name.empty())
      bad(FullName, "is empty");
    else if (auto why = checkText(name, 100, false))
      bad(FullName, *why);
    else if (name.find_first_not_of(' ') == std::string_view::npos)
      bad(FullName, "is blank");
  }
  if (!parseDate(cell(BirthDate))) bad(BirthDate, "must be a real date YYYY-MM-DD");
  required_text(Kecamatan, 100);
  required_text(Kelurahan, 100);
  if (std::string_view rt = cell(Rt); rt.size() != 3 || !allDigits(rt) || rt == "000")
    bad(Rt, "must be 3 digits, 001-999");
  enum_cell(Category, kCategories);
  optional_text(Occupation, 100, false);
  enum_cell(CardStatus, kCardStatuses);

  if (cell(Program).empty()) {
    for (Col c : kCoverageColumns)
      if (!cell(c).empty()) bad(c, "is set on a row without program");
  } else {
    if (!isOneOf(cell(Program), kPrograms)) bad(Program, oneOf(kPrograms));
    if (!isMembershipNo(cell(MembershipNo)))
      bad(MembershipNo, "must be up to 32 letters, digits or '-'");
    enum_cell(CoverageStatus, kCoverageStatuses);
    auto from = parseDate(cell(ValidFrom));
    auto to = parseDate(cell(ValidTo));
    if (!from) bad(ValidFrom, "must be a real date YYYY-MM-DD");
    if (!to) bad(ValidTo, "must be a real date YYYY-MM-DD");
    if (from && to && *to < *from)
      bad(ValidTo, "is before valid_from (" + std::string(cell(ValidTo)) + " < " +
                       std::string(cell(ValidFrom)) + ")");
    required_text(Funder, 200);
    optional_text(LegalBasis, 200, false);
    optional_text(Activity, 500, true);
    optional_text(SkRtNo, 100, false);
    if (!cell(SkRtNo).empty() && cell(Activity).empty())
      bad(Activity, "is required when sk_rt_no is set");
  }
  return issues_.size() == before;
}

void Parser::addRow(long line) {
  const bool no_coverage = cell(Program).empty();
  auto [at, inserted] = index_.findOrInsert(cell(CardNo), roster_.cards.size(), roster_.cards);
  if (inserted) {
    CardRecord card;
    card.card_no = cell(CardNo);
    card.card_uid = toLower(cell(CardUid));
    card.status = cell(CardStatus);
    card.category = cell(Category);
    card.occupation = cell(Occupation);
    card.kecamatan = cell(Kecamatan);
    card.kelurahan = cell(Kelurahan);
    card.rt = cell(Rt);
    if (options_.profile == Profile::Staff) {
      card.holder = cell(FullName);
      card.nik_last4 = cell(Nik).substr(12);
    } else {
      card.holder = maskName(cell(FullName));
    }
    roster_.cards.push_back(std::move(card));
    first_.push_back(
        FirstRow{line, no_coverage, keep(cell(Nik)), keep(cell(FullName)), keep(cell(BirthDate))});
  } else {
    const CardRecord& card = roster_.cards[at];
    const FirstRow& first = first_[at];
    const std::string same =
        "differs from line " + std::to_string(first.line) + " of the same card";
    bool agree = true;
    auto compare = [&](Col c, std::string_view had) {
      if (cell(c) != had) {
        agree = false;
        issue(line, kColumns[c].name, same);
      }
    };
    if (toLower(cell(CardUid)) != card.card_uid) {
      agree = false;
      issue(line, "card_uid", same);
    }
    compare(Nik, first.nik);
    compare(FullName, first.full_name);
    compare(BirthDate, first.birth_date);
    compare(Kecamatan, card.kecamatan);
    compare(Kelurahan, card.kelurahan);
    compare(Rt, card.rt);
    compare(Category, card.category);
    compare(Occupation, card.occupation);
    compare(CardStatus, card.status);
    if (no_coverage || first.no_coverage) {
      agree = false;
      issue(line, "program",
            "a row without program must be its card's only row (card also on line " +
                std::to_string(first.line) + ")");
    }
    if (!agree) return;
  }

  if (no_coverage) return;
  Coverage cov;
  cov.program = cell(Program);
  if (options_.profile == Profile::Staff) cov.membership_no = cell(MembershipNo);
  cov.status = cell(CoverageStatus);
  cov.valid_from = cell(ValidFrom);
  cov.valid_to = cell(ValidTo);
  cov.funder = cell(Funder);
  cov.legal_basis = cell(LegalBasis);
  cov.activity = cell(Activity);
  cov.sk_rt_no = cell(SkRtNo);
  auto& covs = roster_.cards[at].coverages;
  // Bounds the duplicate scan below: one card repeated a million times must
  // not turn the check quadratic.
  if (covs.size() >= kMaxCoveragesPerCard) {
    issue(line, "program",
          "card has more than " + std::to_string(kMaxCoveragesPerCard) + " coverages");
    return;
  }
  for (const auto& other : covs) {
    if (other.program == cov.program && other.valid_from == cov.valid_from &&
        other.valid_to == cov.valid_to && other.activity == cov.activity &&
        other.sk_rt_no == cov.sk_rt_no) {
      issue(line, "program", "the same coverage appears twice for this card");
      return;
    }
  }
  covs.push_back(std::move(cov));
}

void Parser::readRow(const CsvRecord& physical_row) {
  CsvRecord row = physical_row;
  row.line = mapLine(row.line);
  ++roster_.rows;
  if (row.fields.size() != header_.size()) {
    issue(row.line, "-",
          "row has " + std::to_string(row.fields.size()) + " fields, the header has " +
              std::to_string(header_.size()));
    return;
  }
  for (std::size_t c = 0; c < ColCount; ++c)
    cells_[c] = col_[c] == kNoColumn ? std::string_view{} : row.fields[col_[c]];
  joinLineBreaks(row.line);
  if (checkRow(row.line)) addRow(row.line);
}

// Each run of line breaks (CR, LF, with the spaces around it) inside a text cell
// becomes one space; at the start or end of the cell it is dropped. The joined text
// lives in owned_, so it outlives the record like any other kept cell.
void Parser::joinLineBreaks(long line) {
  for (Col c : kJoinedTextColumns) {
    std::string_view v = cells_[c];
    if (v.find_first_of("\r\n") == std::string_view::npos) continue;
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size();) {
      if (v[i] != '\r' && v[i] != '\n') {
        out += v[i++];
        continue;
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      while (i < v.size() && (v[i] == '\r' || v[i] == '\n' || v[i] == ' ')) ++i;
      if (!out.empty() && i < v.size()) out += ' ';
    }
    cells_[c] = owned_.emplace_back(std::move(out));
    if (++joined_cells_ <= kMaxLineBreakWarnings)
      roster_.warnings.push_back(std::string(file_) + ":" + std::to_string(line) + ": " +
                                 std::string(kColumns[c].name) +
                                 ": line break inside the field read as one space");
  }
}

Roster Parser::finish() {
  auto& cards = roster_.cards;
  if (options_.profile == Profile::Staff) {
    const NikKey nik_key(options_.nik_key);
    for (std::size_t i = 0; i < cards.size(); ++i) {
      cards[i].nik_hash = nikHash(nik_key, first_[i].nik);
      cards[i].birth_hash = birthDateHash(nik_key, cards[i].card_no, first_[i].birth_date);
    }
  }
  auto coverage_key = [](const Coverage& c) {
    return std::tie(c.program, c.valid_from, c.valid_to, c.activity, c.sk_rt_no, c.status, c.funder,
                    c.legal_basis, c.membership_no);
  };
  // Coverage order follows the data, not the export's row order, so that the
  // same roster in another row order publishes the same bytes.
  for (auto& card : cards) {
    if (card.coverages.size() > 1)
      std::sort(
          card.coverages.begin(), card.coverages.end(),
          [&](const Coverage& a, const Coverage& b) { return coverage_key(a) < coverage_key(b); });
  }
  auto by_card_no = [](const CardRecord& a, const CardRecord& b) { return a.card_no < b.card_no; };
  if (!std::is_sorted(cards.begin(), cards.end(), by_card_no)) {
    std::vector<std::size_t> order(cards.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return cards[a].card_no < cards[b].card_no; });
    std::vector<CardRecord> sorted;
    sorted.reserve(cards.size());
    for (std::size_t i : order) sorted.push_back(std::move(cards[i]));
    cards = std::move(sorted);
  }
  return std::move(roster_);
}

std::expected<Roster, std::vector<RosterIssue>> Parser::run(std::string_view csv) {
  if (options_.profile == Profile::Staff && options_.nik_key.empty()) {
    issue(0, "-", "the staff profile needs a NIK key");
    return std::unexpected(std::move(issues_));
  }
  csv_ = csv;
  // Rows are at most the line count; reserving up front avoids rehashing the
  // index and moving every record as the vectors grow.
  std::size_t lines = 1;
  for (auto at = csv.find('\n'); at != std::string_view::npos; at = csv.find('\n', at + 1)) ++lines;
  index_.reserve(lines);
  roster_.cards.reserve(lines);
  first_.reserve(lines);
  CsvReader reader(csv);
  bool have_header = false;
  for (;;) {
    auto rec = reader.next();
    if (!rec) {
      const CsvError& e = rec.error();
      if (!issue(mapLine(e.line),
                 have_header ? columnLabel(e.field) : "field " + std::to_string(e.field),
                 e.reason) ||
          !have_header)
        break;
      ++roster_.rows;
      continue;
    }
    if (!*rec) break;
    if (!have_header) {
      have_header = true;
      if (!readHeader(**rec)) break;
      continue;
    }
    readRow(**rec);
    if (full()) break;
  }
  if (!have_header && issues_.empty()) issue(1, "-", "empty file: a header row is required");
  if (joined_cells_ > kMaxLineBreakWarnings)
    roster_.warnings.push_back(std::string(file_) + ": " +
                               std::to_string(joined_cells_ - kMaxLineBreakWarnings) +
                               " more fields with line breaks read as one space");
  if (!issues_.empty()) return std::unexpected(std::move(issues_));
  return finish();
}

}  // namespace

std::string RosterIssue::format() const {
  return file + ":" + std::to_string(line) + ": " + column + ": " + reason;
}

std::string maskName(std::string_view full_name) {
  std::string out;
  out.reserve(full_name.size());
  std::size_t i = 0;
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < full_name.size()) {
    while (i < full_name.size() && is_space(full_name[i])) ++i;
    std::size_t begin = i;
    while (i < full_name.size() && !is_space(full_name[i])) ++i;
    if (begin == i) break;
    std::string_view word = full_name.substr(begin, i - begin);
    std::size_t chars = countCodePoints(word);
    if (!out.empty()) out += ' ';
    if (chars == 0) {  // only stray continuation bytes: show nothing of it
      out += '*';
      continue;
    }
    std::size_t shown = std::min<std::size_t>(3, chars - 1);
    // Cut after `shown` code points: stop at the lead byte of the next one.
    std::size_t cut = 0;
    for (std::size_t seen = 0; cut < word.size(); ++cut) {
      if ((static_cast<unsigned char>(word[cut]) & 0xC0) != 0x80 && seen++ == shown) break;
    }
    out.append(word.substr(0, cut));
    out.append(chars - shown, '*');
  }
  return out;
}

std::expected<Roster, std::vector<RosterIssue>> parseRoster(std::string_view csv,
                                                            std::string_view file_name,
                                                            const RosterOptions& options) {
  return Parser(file_name, options).run(csv);
}

}  // namespace kb::roster
