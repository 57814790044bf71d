#include "roster/roster.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "roster/csv_reader.h"
#include "roster/nik_key.h"

namespace kb::roster {
namespace {

// ---- CSV reader -------------------------------------------------------------

struct Parsed {
  std::vector<std::vector<std::string>> records;
  std::vector<long> lines;
  std::vector<CsvError> errors;
};

Parsed readAll(std::string_view csv) {
  Parsed out;
  CsvReader reader(csv);
  for (;;) {
    auto rec = reader.next();
    if (!rec) {
      out.errors.push_back(rec.error());
      continue;
    }
    if (!*rec) break;
    out.lines.push_back((*rec)->line);
    out.records.emplace_back((*rec)->fields.begin(), (*rec)->fields.end());
  }
  return out;
}

using Fields = std::vector<std::string>;

TEST(CsvReader, BomCrlfAndQuotedCommasAndEscapes) {
  auto p = readAll(
      "\xEF\xBB\xBF"
      "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n,,\r\n");
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[0], (Fields{"a", "b", "c"}));
  EXPECT_EQ(p.records[1], (Fields{"1", "x, y", "say \"hi\""}));
  EXPECT_EQ(p.records[2], (Fields{"", "", ""}));
  EXPECT_EQ(p.lines, (std::vector<long>{1, 2, 3}));
}

TEST(CsvReader, EmbeddedLineBreaksKeepPhysicalLineNumbers) {
  auto p = readAll("h1,h2\n\"two\nlines\",x\n\"three\r\nline\nfield\",y\nlast,z");
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 4u);
  EXPECT_EQ(p.records[1], (Fields{"two\nlines", "x"}));
  EXPECT_EQ(p.records[2], (Fields{"three\r\nline\nfield", "y"}));
  EXPECT_EQ(p.records[3], (Fields{"last", "z"}));  // no final line break
  EXPECT_EQ(p.lines, (std::vector<long>{1, 2, 4, 7}));
}

TEST(CsvReader, BlankLinesAreSkippedAndUnicodePassesThrough) {
  auto p = readAll("a\n\n\r\nSyara'\n\"Zoë, 李小龍\"\n\n");
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[1], (Fields{"Syara'"}));
  EXPECT_EQ(p.records[2], (Fields{"Zoë, 李小龍"}));
  EXPECT_EQ(p.lines, (std::vector<long>{1, 4, 5}));
}

TEST(CsvReader, EscapedFieldsAfterOtherEscapedFieldsStayIntact) {
  auto p = readAll("\"a\"\"\",\"b\"\"\"\"c\",\"\"\"\"\n");
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0], (Fields{"a\"", "b\"\"c", "\""}));
}

TEST(CsvReader, StrayQuoteReportsLineAndFieldThenResumes) {
  auto p = readAll("a,b\nok,fine\nbad,ab\"c\nnext,row\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].line, 3);
  EXPECT_EQ(p.errors[0].field, 2u);
  EXPECT_EQ(p.errors[0].reason, "quote inside an unquoted field");
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[2], (Fields{"next", "row"}));
  EXPECT_EQ(p.lines.back(), 4);
}

TEST(CsvReader, TextAfterClosingQuoteIsAnError) {
  auto p = readAll("a,b\nx,\"q\nq\"z\nnext,row\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].line, 3);
  EXPECT_EQ(p.errors[0].field, 2u);
  EXPECT_EQ(p.errors[0].reason, "text after the closing quote");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.lines.back(), 4);
}

TEST(CsvReader, UnterminatedQuoteNamesTheLineItOpened) {
  auto p = readAll("a,b\nx,y\nz,\"never\nclosed\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].line, 3);
  EXPECT_EQ(p.errors[0].field, 2u);
  EXPECT_EQ(p.errors[0].reason, "quoted field is never closed (unterminated quote)");
  EXPECT_EQ(p.records.size(), 2u);
}

TEST(CsvReader, InvalidUtf8AndBareCrAreErrors) {
  auto p = readAll("a,b,c\nx,y,\xC3\x28\nx,\"\xED\xA0\x80\",z\nx\ry,z,w\nfine,1,2\n");
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_EQ(p.errors[0].line, 2);
  EXPECT_EQ(p.errors[0].field, 3u);
  EXPECT_EQ(p.errors[0].reason, "invalid UTF-8");
  EXPECT_EQ(p.errors[1].line, 3);  // an encoded surrogate
  EXPECT_EQ(p.errors[1].field, 2u);
  EXPECT_EQ(p.errors[2].line, 4);
  EXPECT_EQ(p.errors[2].reason, "carriage return without line feed outside quotes");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.lines.back(), 5);
}

TEST(Utf8, ValidatorRejectsOverlongsAndOutOfRange) {
  EXPECT_TRUE(isValidUtf8("plain, é, 李, 😀"));
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(isValidUtf8("\x80"));
  EXPECT_EQ(countCodePoints("Zoë 😀"), 5u);
}

// ---- Roster -----------------------------------------------------------------

const std::vector<std::string> kHeader{
    "card_no",       "card_uid",        "nik",         "full_name",
    "birth_date",    "kecamatan",       "kelurahan",   "rt",
    "category",      "occupation",      "card_status", "program",
    "membership_no", "coverage_status", "valid_from",  "valid_to",
    "funder",        "legal_basis",     "activity",    "sk_rt_no"};

using RowValues = std::map<std::string, std::string>;

RowValues baseRow() {
  return {{"card_no", "KB-1571-0000001"},
          {"card_uid", "04A1B2C3D4E5F6"},
          {"nik", "1571014501800001"},
          {"full_name", "Siti Nurhaliza"},
          {"birth_date", "1980-01-05"},
          {"kecamatan", "Telanaipura"},
          {"kelurahan", "Teluk Kenali"},
          {"rt", "007"},
          {"category", "pekerja_rentan"},
          {"occupation", "ojek online"},
          {"card_status", "active"},
          {"program", "JKK"},
          {"membership_no", "12345678901"},
          {"coverage_status", "active"},
          {"valid_from", "2026-01-01"},
          {"valid_to", "2026-12-31"},
          {"funder", "APBD Kota Jambi"},
          {"legal_basis", "Perwal Jambi No. 14 Tahun 2025"},
          {"activity", ""},
          {"sk_rt_no", ""}};
}

std::string quote(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csvLine(const std::vector<std::string>& header, const RowValues& row) {
  std::string out;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (i) out += ',';
    auto it = row.find(header[i]);
    out += quote(it == row.end() ? "" : it->second);
  }
  return out + "\n";
}

std::string csvOf(const std::vector<RowValues>& rows,
                  const std::vector<std::string>& header = kHeader) {
  std::string out;
  for (std::size_t i = 0; i < header.size(); ++i) out += (i ? "," : "") + header[i];
  out += "\n";
  for (const auto& r : rows) out += csvLine(header, r);
  return out;
}

RowValues with(RowValues row, const RowValues& changes) {
  for (const auto& [k, v] : changes) row[k] = v;
  return row;
}

RosterOptions kiosk(std::size_t max_issues = 1) {
  RosterOptions o;
  o.max_issues = max_issues;
  return o;
}

std::vector<std::string> issuesOf(std::string_view csv, const RosterOptions& options) {
  auto r = parseRoster(csv, "r.csv", options);
  std::vector<std::string> out;
  if (!r)
    for (const auto& i : r.error()) out.push_back(i.format());
  return out;
}

TEST(Roster, GroupsRowsPerCardSortsAndShapesTheKioskProfile) {
  auto jkm = with(baseRow(), {{"program", "JKM"}});
  auto other = with(baseRow(), {{"card_no", "KB-1571-0000000"},
                                {"card_uid", ""},
                                {"nik", "1571010101900002"},
                                {"full_name", "Ma'ruf"},
                                {"category", "warga"},
                                {"occupation", ""},
                                {"program", ""},
                                {"membership_no", ""},
                                {"coverage_status", ""},
                                {"valid_from", ""},
                                {"valid_to", ""},
                                {"funder", ""},
                                {"legal_basis", ""}});
  auto r = parseRoster(csvOf({jkm, other, baseRow()}), "r.csv", kiosk());
  ASSERT_TRUE(r) << r.error()[0].format();
  EXPECT_EQ(r->rows, 3u);
  ASSERT_EQ(r->cards.size(), 2u);
  EXPECT_EQ(r->cards[0].card_no, "KB-1571-0000000");
  EXPECT_TRUE(r->cards[0].coverages.empty());
  EXPECT_EQ(r->cards[0].holder, "Ma'***");
  const CardRecord& c = r->cards[1];
  EXPECT_EQ(c.card_uid, "04a1b2c3d4e5f6");
  EXPECT_EQ(c.holder, "Sit* Nur******");
  EXPECT_EQ(c.status, "active");
  EXPECT_EQ(c.kelurahan, "Teluk Kenali");
  EXPECT_EQ(c.rt, "007");
  EXPECT_TRUE(c.birth_hash.empty());
  EXPECT_TRUE(c.nik_hash.empty());
  EXPECT_TRUE(c.nik_last4.empty());
  ASSERT_EQ(c.coverages.size(), 2u);
  EXPECT_EQ(c.coverages[0].program, "JKK");  // sorted, not in row order
  EXPECT_EQ(c.coverages[1].program, "JKM");
  EXPECT_TRUE(c.coverages[0].membership_no.empty());
  EXPECT_EQ(c.coverages[0].legal_basis, "Perwal Jambi No. 14 Tahun 2025");
  EXPECT_TRUE(r->warnings.empty());
}

TEST(Roster, ColumnsInAnyOrderUnknownColumnWarnsOptionalColumnsMayBeAbsent) {
  std::vector<std::string> header{"rt",        "nik",        "remarks",  "card_no",
                                  "full_name", "birth_date", "category", "kelurahan",
                                  "kecamatan", "card_status"};
  auto row = with(baseRow(), {{"remarks", "anything"}});
  auto r = parseRoster(csvOf({row}, header), "r.csv", kiosk());
  ASSERT_TRUE(r) << r.error()[0].format();
  ASSERT_EQ(r->cards.size(), 1u);
  EXPECT_TRUE(r->cards[0].coverages.empty());
  EXPECT_TRUE(r->cards[0].card_uid.empty());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "r.csv:1: column 'remarks' is not known and is ignored");
}

TEST(Roster, ActivityCoverageWithMultiLineTextAndCrlfFile) {
  auto row = with(baseRow(), {{"category", "warga"},
                              {"membership_no", ""},
                              {"valid_from", "2025-08-01"},
                              {"valid_to", "2025-12-31"},
                              {"coverage_status", "ended"},
                              {"legal_basis", "Perwal Jambi No. 18 Tahun 2025"},
                              {"activity", "Semenisasi jalan, RT 007\nKel. Teluk Kenali"},
                              {"sk_rt_no", "SK/RT007/KB/2025/012"}});
  std::string header;
  for (std::size_t i = 0; i < kHeader.size(); ++i) header += (i ? "," : "") + kHeader[i];
  std::string line = csvLine(kHeader, row);
  // Record ends become CRLF; the line break inside the quoted activity stays LF.
  std::string crlf = header + "\r\n" + line.substr(0, line.size() - 1) + "\r\n";
  ASSERT_NE(crlf.find("007\nKel."), std::string::npos);
  auto r = parseRoster("\xEF\xBB\xBF" + crlf, "r.csv", kiosk());
  ASSERT_TRUE(r) << r.error()[0].format();
  ASSERT_EQ(r->cards.size(), 1u);
  ASSERT_EQ(r->cards[0].coverages.size(), 1u);
  EXPECT_EQ(r->cards[0].coverages[0].sk_rt_no, "SK/RT007/KB/2025/012");
  EXPECT_NE(r->cards[0].coverages[0].activity.find("Kel. Teluk Kenali"), std::string::npos);
}

struct BadCell {
  std::string column;
  std::string value;
  std::string expected;  // after "r.csv:2: "
};

TEST(Roster, EveryCellCheckNamesFileLineAndColumn) {
  const std::vector<BadCell> cases{
      {"card_no", "", "card_no: is empty"},
      {"card_no", "kb-1571-01", "card_no: must be 6-24 characters of 0-9, A-Z and '-'"},
      {"card_no", "KB-1", "card_no: must be 6-24 characters of 0-9, A-Z and '-'"},
      {"card_no", "KB-1571-000000000000000001",
       "card_no: must be 6-24 characters of 0-9, A-Z and '-'"},
      {"card_uid", "04A1B2", "card_uid: must be 8 or 14 hex digits (or empty)"},
      {"card_uid", "04A1B2C3D4E5GG", "card_uid: must be 8 or 14 hex digits (or empty)"},
      {"nik", "157101450180000", "nik: must be 16 digits"},
      {"nik", "15710145018000O1", "nik: must be 16 digits"},
      {"full_name", "", "full_name: is empty"},
      {"full_name", "   ", "full_name: is blank"},
      {"full_name", "Siti\tNur", "full_name: contains a line break or control character"},
      {"birth_date", "1980-02-30", "birth_date: must be a real date YYYY-MM-DD"},
      {"birth_date", "05/01/1980", "birth_date: must be a real date YYYY-MM-DD"},
      {"kecamatan", "", "kecamatan: is empty"},
      {"kelurahan", "", "kelurahan: is empty"},
      {"rt", "7", "rt: must be 3 digits, 001-999"},
      {"rt", "000", "rt: must be 3 digits, 001-999"},
      {"rt", "1000", "rt: must be 3 digits, 001-999"},
      {"category", "Warga",
       "category: must be one of pekerja_rentan, petugas_keagamaan, ketua_rt, phl, petugas_syara, "
       "kader, warga"},
      {"occupation", "ojek\x7f", "occupation: contains a line break or control character"},
      {"card_status", "aktif", "card_status: must be one of active, suspended, lost, revoked"},
      {"card_status", "", "card_status: is empty"},
      {"program", "BPJS", "program: must be one of JKK, JKM, JHT, JP, JKN"},
      {"membership_no", "123 456", "membership_no: must be up to 32 letters, digits or '-'"},
      {"coverage_status", "", "coverage_status: is empty"},
      {"coverage_status", "expired", "coverage_status: must be one of active, inactive, ended"},
      {"valid_from", "2026-13-01", "valid_from: must be a real date YYYY-MM-DD"},
      {"valid_to", "", "valid_to: must be a real date YYYY-MM-DD"},
      {"valid_to", "2025-12-31", "valid_to: is before valid_from (2025-12-31 < 2026-01-01)"},
      {"funder", "", "funder: is empty"},
      {"sk_rt_no", "SK/RT007/KB/2025/012", "activity: is required when sk_rt_no is set"},
  };
  for (const auto& c : cases) {
    auto csv = csvOf({with(baseRow(), {{c.column, c.value}})});
    auto issues = issuesOf(csv, kiosk());
    ASSERT_EQ(issues.size(), 1u) << c.column << "=" << c.value;
    EXPECT_EQ(issues[0], "r.csv:2: " + c.expected) << c.column << "=" << c.value;
  }
}

TEST(Roster, NameLengthCountsCharactersNotBytes) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "é";
  EXPECT_TRUE(parseRoster(csvOf({with(baseRow(), {{"full_name", hundred}})}), "r.csv", kiosk()));
  EXPECT_EQ(issuesOf(csvOf({with(baseRow(), {{"full_name", hundred + "é"}})}), kiosk()),
            std::vector<std::string>{"r.csv:2: full_name: is longer than 100 characters"});
}

TEST(Roster, CoverageColumnsWithoutProgramAreRejected) {
  auto row = with(baseRow(), {{"program", ""}});
  EXPECT_EQ(issuesOf(csvOf({row}), kiosk(100)),
            (std::vector<std::string>{"r.csv:2: membership_no: is set on a row without program",
                                      "r.csv:2: coverage_status: is set on a row without program",
                                      "r.csv:2: valid_from: is set on a row without program",
                                      "r.csv:2: valid_to: is set on a row without program",
                                      "r.csv:2: funder: is set on a row without program",
                                      "r.csv:2: legal_basis: is set on a row without program"}));
}

TEST(Roster, HeaderProblemsAreReportedAtLineOne) {
  std::vector<std::string> no_nik;
  for (const auto& h : kHeader)
    if (h != "nik" && h != "funder") no_nik.push_back(h);
  EXPECT_EQ(issuesOf(csvOf({baseRow()}, no_nik), kiosk(10)),
            (std::vector<std::string>{
                "r.csv:1: nik: required column is missing",
                "r.csv:1: funder: column is required when the header has 'program'"}));
  auto twice = kHeader;
  twice.push_back("rt");
  EXPECT_EQ(issuesOf(csvOf({}, twice), kiosk(10)),
            std::vector<std::string>{"r.csv:1: rt: column appears twice (fields 8 and 21)"});
  EXPECT_EQ(issuesOf("", kiosk()),
            std::vector<std::string>{"r.csv:1: -: empty file: a header row is required"});
  EXPECT_EQ(issuesOf("\xEF\xBB\xBF\r\n\r\n", kiosk()),
            std::vector<std::string>{"r.csv:1: -: empty file: a header row is required"});
}

TEST(Roster, SyntaxErrorsUseTheColumnName) {
  std::string csv = csvOf({baseRow()});
  csv += "KB-1571-0000002,,1571014501800001,Si\"ti,1980-01-05\n";
  csv += "KB-1571-0000003,,\"1571014501800001\n";
  EXPECT_EQ(issuesOf(csv, kiosk(10)),
            (std::vector<std::string>{
                "r.csv:3: full_name: quote inside an unquoted field",
                "r.csv:4: nik: quoted field is never closed (unterminated quote)"}));
  std::string bad_utf8 = csvOf({with(baseRow(), {{"full_name", "Siti \xFF"}})});
  EXPECT_EQ(issuesOf(bad_utf8, kiosk()),
            std::vector<std::string>{"r.csv:2: full_name: invalid UTF-8"});
}

TEST(Roster, RowWithWrongFieldCountIsRejected) {
  std::string csv = csvOf({baseRow()}) + "KB-1571-0000002,x\n";
  EXPECT_EQ(issuesOf(csv, kiosk()),
            std::vector<std::string>{"r.csv:3: -: row has 2 fields, the header has 20"});
}

TEST(Roster, RowsOfOneCardMustAgreeOnCardFields) {
  auto first = baseRow();
  auto second =
      with(baseRow(),
           {{"program", "JKM"}, {"kelurahan", "Buluran Kenali"}, {"card_uid", "04a1b2c3d4e5f6"}});
  auto third = with(
      baseRow(), {{"program", "JKN"}, {"full_name", "Siti Aminah"}, {"nik", "1571014501800002"}});
  EXPECT_EQ(issuesOf(csvOf({first, second, third}), kiosk(10)),
            (std::vector<std::string>{"r.csv:3: kelurahan: differs from line 2 of the same card",
                                      "r.csv:4: nik: differs from line 2 of the same card",
                                      "r.csv:4: full_name: differs from line 2 of the same card"}));
}

TEST(Roster, AnEmptyProgramMustBeTheCardsOnlyRow) {
  auto none = with(baseRow(), {{"program", ""},
                               {"membership_no", ""},
                               {"coverage_status", ""},
                               {"valid_from", ""},
                               {"valid_to", ""},
                               {"funder", ""},
                               {"legal_basis", ""}});
  EXPECT_EQ(issuesOf(csvOf({baseRow(), none}), kiosk()),
            std::vector<std::string>{"r.csv:3: program: a row without program must be its card's "
                                     "only row (card also on line 2)"});
  EXPECT_EQ(issuesOf(csvOf({none, baseRow()}), kiosk()),
            std::vector<std::string>{"r.csv:3: program: a row without program must be its card's "
                                     "only row (card also on line 2)"});
}

TEST(Roster, DuplicateCoverageIsRejected) {
  EXPECT_EQ(
      issuesOf(csvOf({baseRow(), baseRow()}), kiosk()),
      std::vector<std::string>{"r.csv:3: program: the same coverage appears twice for this card"});
}

TEST(Roster, ACardHasAtMost64Coverages) {
  std::vector<RowValues> rows;
  for (int i = 0; i < 65; ++i) {
    char from[16];
    std::snprintf(from, sizeof from, "%04d-01-01", 1960 + i);
    rows.push_back(with(baseRow(), {{"valid_from", from}, {"valid_to", "2026-12-31"}}));
  }
  EXPECT_EQ(issuesOf(csvOf(rows), kiosk(10)),
            std::vector<std::string>{"r.csv:66: program: card has more than 64 coverages"});
  rows.pop_back();
  EXPECT_TRUE(parseRoster(csvOf(rows), "r.csv", kiosk()));
}

TEST(Roster, ReportModeCollectsEveryBadRowInOrder) {
  std::vector<RowValues> rows;
  for (int i = 0; i < 6; ++i) {
    char no[32];
    std::snprintf(no, sizeof no, "KB-1571-%07d", i + 1);
    rows.push_back(with(baseRow(), {{"card_no", no}}));
  }
  rows[1]["rt"] = "7";
  rows[3]["nik"] = "123";
  rows[3]["birth_date"] = "1980-02-31";
  rows[5]["card_status"] = "gone";
  const std::string csv = csvOf(rows);
  EXPECT_EQ(issuesOf(csv, kiosk(SIZE_MAX)),
            (std::vector<std::string>{
                "r.csv:3: rt: must be 3 digits, 001-999", "r.csv:5: nik: must be 16 digits",
                "r.csv:5: birth_date: must be a real date YYYY-MM-DD",
                "r.csv:7: card_status: must be one of active, suspended, lost, revoked"}));
  EXPECT_EQ(issuesOf(csv, kiosk(1)),
            std::vector<std::string>{"r.csv:3: rt: must be 3 digits, 001-999"});
  EXPECT_EQ(issuesOf(csv, kiosk(2)).size(), 2u);
}

TEST(Roster, LinesStayRightAfterMultiLineFields) {
  auto multi = with(baseRow(), {{"full_name", "Siti\r\nNurhaliza"}, {"nik", "1"}});
  auto next = with(baseRow(), {{"card_no", "KB-1571-0000002"}, {"rt", "07"}});
  EXPECT_EQ(issuesOf(csvOf({multi, next}), kiosk(10)),
            (std::vector<std::string>{"r.csv:2: nik: must be 16 digits",
                                      "r.csv:4: rt: must be 3 digits, 001-999"}));
}

TEST(Roster, LineBreaksInTextFieldsBecomeOneSpaceWithAWarning) {
  // Spreadsheet exports wrap long names and addresses inside quoted fields (RFC 4180).
  auto wrapped = with(baseRow(), {{"full_name", "Siti \r\n  Nurhaliza\n"},
                                  {"kelurahan", "Telanai\npura"},
                                  {"occupation", "ojek\n\nonline"}});
  auto second = with(wrapped, {{"program", "JKM"}});
  auto plain = with(baseRow(), {{"card_no", "KB-1571-0000002"}});
  auto r = parseRoster(csvOf({wrapped, second, plain}), "r.csv", kiosk());
  ASSERT_TRUE(r) << r.error()[0].format();
  ASSERT_EQ(r->cards.size(), 2u);
  EXPECT_EQ(r->cards[0].holder, maskName("Siti Nurhaliza"));
  EXPECT_EQ(r->cards[0].kelurahan, "Telanai pura");
  EXPECT_EQ(r->cards[0].occupation, "ojek online");
  EXPECT_EQ(r->cards[0].coverages.size(), 2u);  // both rows agree once joined
  ASSERT_EQ(r->warnings.size(), 6u);
  EXPECT_EQ(r->warnings[0], "r.csv:2: full_name: line break inside the field read as one space");
  EXPECT_EQ(r->warnings[1], "r.csv:2: kelurahan: line break inside the field read as one space");
  EXPECT_EQ(r->warnings[2], "r.csv:2: occupation: line break inside the field read as one space");
  // The first row holds five line breaks (lines 2-7), so the next row starts on line 8.
  EXPECT_EQ(r->warnings[3], "r.csv:8: full_name: line break inside the field read as one space");

  RosterOptions staff = kiosk();
  staff.profile = Profile::Staff;
  staff.nik_key = "k";
  auto s = parseRoster(csvOf({wrapped}), "r.csv", staff);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cards[0].holder, "Siti Nurhaliza");
  // A tab or other control character is still refused.
  EXPECT_EQ(
      issuesOf(csvOf({with(baseRow(), {{"full_name", "Siti\tNur"}})}), kiosk()),
      std::vector<std::string>{"r.csv:2: full_name: contains a line break or control character"});
}

TEST(Roster, StaffProfileKeepsNameAndHashesNik) {
  RosterOptions staff;
  staff.profile = Profile::Staff;
  staff.nik_key = "test-nik-key-0123456789";
  auto r = parseRoster(csvOf({baseRow()}), "r.csv", staff);
  ASSERT_TRUE(r) << r.error()[0].format();
  const CardRecord& c = r->cards.at(0);
  EXPECT_EQ(c.holder, "Siti Nurhaliza");
  // No birth date, only its keyed hash bound to the card, cut to 128 bits. Python:
  // hmac.new(key, b"kartu-bahagia birth date\0KB-1571-0000001\01980-01-05", sha256)
  //     .hexdigest()[:32]
  EXPECT_EQ(c.birth_hash, "1a1252f1376c4de0d376173f544c261b");
  EXPECT_EQ(c.nik_last4, "0001");
  // Python: hmac.new(b"test-nik-key-0123456789", b"1571014501800001", sha256).hexdigest()[:32]
  EXPECT_EQ(c.nik_hash, "659ebc3d4c4babd00df6de750f5b5173");
  EXPECT_EQ(c.coverages.at(0).membership_no, "12345678901");

  staff.nik_key.clear();
  auto missing = parseRoster(csvOf({baseRow()}), "r.csv", staff);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().at(0).format(), "r.csv:0: -: the staff profile needs a NIK key");
}

TEST(Roster, KeyedHashIsHmacSha256AsRfc4231Says) {
  // RFC 4231 test cases 2 and 6 (a short key, and a key longer than a block).
  EXPECT_EQ(hexEncode(NikKey("Jefe").mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hexEncode(crypto::hmacSha256(std::string(131, '\xaa'),
                                         "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  const NikKey key("Jefe");  // one set-up context, used again and again
  EXPECT_EQ(key.mac("what do ya want for nothing?"), key.mac("what do ya want for nothing?"));
  EXPECT_EQ(nikHash(key, "what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c7");
}

TEST(Roster, KeyedHashesAre128BitsAndMatchTheOlderFullLengthForm) {
  const std::string raw_key = "test-nik-key-0123456789";
  const NikKey key(raw_key);
  const std::string full = hexEncode(crypto::hmacSha256(raw_key, "1571014501800001"));
  const std::string cut = nikHash(key, "1571014501800001");
  EXPECT_EQ(cut.size(), kKeyedHashHexDigits);
  EXPECT_EQ(cut, full.substr(0, kKeyedHashHexDigits));
  EXPECT_TRUE(keyedHashMatches(cut, cut));
  EXPECT_TRUE(keyedHashMatches(full, cut));  // a record from a bundle made before the cut
  EXPECT_FALSE(keyedHashMatches(cut, nikHash(key, "1571014501800002")));
  EXPECT_FALSE(keyedHashMatches(cut.substr(0, 31), cut));  // a shorter stored hash
  EXPECT_FALSE(keyedHashMatches(full, full));              // only the 128-bit form is computed
  EXPECT_EQ(birthDateHash(key, "KB-1", "1980-01-05").size(), kKeyedHashHexDigits);
  EXPECT_NE(birthDateHash(key, "KB-1", "1980-01-05"), birthDateHash(key, "KB-2", "1980-01-05"));
}

TEST(MaskName, ShowsUpToThreeCharactersPerWordNeverTheWholeWord) {
  EXPECT_EQ(maskName("SITI NURHALIZA"), "SIT* NUR******");
  EXPECT_EQ(maskName("Syara'"), "Sya***");
  EXPECT_EQ(maskName("M. Yusuf"), "M* Yus**");
  EXPECT_EQ(maskName("A"), "*");
  EXPECT_EQ(maskName("Al"), "A*");
  EXPECT_EQ(maskName("  Ida   Ayu  "), "Id* Ay*");
  EXPECT_EQ(maskName("Zoë Ṣafiyyah"), "Zo* Ṣaf*****");
  EXPECT_EQ(maskName("李小龍"), "李小*");
  EXPECT_EQ(maskName("😀😀😀😀😀"), "😀😀😀**");
  EXPECT_EQ(maskName(""), "");
  EXPECT_EQ(maskName("\x80\x80"), "*");  // not UTF-8: nothing of it shown
}

}  // namespace
}  // namespace kb::roster
