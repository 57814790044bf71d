#pragma once
/// A streaming RFC 4180 reader over an in-memory buffer: one record at a time,
/// fields as string_views, no allocation per field or character.
///
/// Accepts a leading UTF-8 BOM, LF or CRLF line ends, quoted fields holding
/// commas, `""` and line breaks. Rejects an unterminated quote, a quote inside
/// an unquoted field, text after a closing quote, a bare CR outside quotes and
/// invalid UTF-8. Entirely empty lines are skipped.

#include <cstddef>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kb::roster {

struct CsvError {
  long line = 0;          ///< physical line (1-based) of the offending character
  std::size_t field = 0;  ///< 1-based field index within the record
  std::string reason;
};

struct CsvRecord {
  long line = 0;  ///< physical line the record starts on
  /// Valid until the next call to CsvReader::next().
  std::span<const std::string_view> fields;
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view data);

  /// The next record, std::nullopt at the end of input, or an error. After an
  /// error the reader resumes at the next physical line, so callers may keep
  /// going to collect more errors (an unterminated quote ends the input).
  std::expected<std::optional<CsvRecord>, CsvError> next();

 private:
  struct Span {
    std::size_t begin;
    std::size_t size;
    bool unescaped;  // lives in scratch_ rather than data_
    long line;       // where the field starts
    bool non_ascii;  // needs the UTF-8 check
  };
  std::expected<void, CsvError> readQuoted(std::size_t field_no);
  CsvError failAndSkip(std::size_t field_no, long line, std::string reason);

  std::string_view data_;
  std::size_t pos_ = 0;
  long line_ = 1;
  std::string scratch_;  // unescaped bodies of fields that held `""`
  std::vector<Span> spans_;
  std::vector<std::string_view> fields_;
};

/// True if `text` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool isValidUtf8(std::string_view text);

/// Number of code points in well-formed UTF-8.
std::size_t countCodePoints(std::string_view utf8);

}  // namespace kb::roster
