#include "roster/csv_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace kb::roster {
namespace {

// Bytes that end an unquoted run: the hot loop tests one table entry per byte.
constexpr std::array<bool, 256> kStops = [] {
  std::array<bool, 256> t{};
  t[static_cast<unsigned char>(',')] = true;
  t[static_cast<unsigned char>('\n')] = true;
  t[static_cast<unsigned char>('\r')] = true;
  t[static_cast<unsigned char>('"')] = true;
  return t;
}();

bool allAscii(std::string_view s) {
  unsigned char acc = 0;
  for (char c : s) acc = static_cast<unsigned char>(acc | static_cast<unsigned char>(c));
  return (acc & 0x80) == 0;
}

long countNewlines(std::string_view s) {
  return static_cast<long>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

bool isValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n = 0;
    unsigned cp = 0;
    unsigned min = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

std::size_t countCodePoints(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

CsvReader::CsvReader(std::string_view data) : data_(data) {
  spans_.reserve(64);
  if (data_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
}

CsvError CsvReader::failAndSkip(std::size_t field_no, long line, std::string reason) {
  auto nl = data_.find('\n', pos_);
  if (nl == std::string_view::npos) {
    pos_ = data_.size();
  } else {
    pos_ = nl + 1;
    ++line_;
  }
  return CsvError{line, field_no, std::move(reason)};
}

std::expected<void, CsvError> CsvReader::readQuoted(std::size_t field_no) {
  const long open_line = line_;
  std::size_t p = pos_ + 1;
  std::size_t body_begin = p;
  bool escaped = false;
  std::size_t scratch_begin = scratch_.size();
  for (;;) {
    const void* hit = std::memchr(data_.data() + p, '"', data_.size() - p);
    if (hit == nullptr) {
      pos_ = data_.size();
      return std::unexpected(
          CsvError{open_line, field_no, "quoted field is never closed (unterminated quote)"});
    }
    std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - data_.data());
    line_ += countNewlines(data_.substr(p, q - p));
    if (q + 1 < data_.size() && data_[q + 1] == '"') {
      // A doubled quote: from here on the body needs copying to drop one of each pair.
      if (!escaped) scratch_.append(data_.substr(body_begin, p - body_begin));
      escaped = true;
      scratch_.append(data_.substr(p, q - p + 1));
      p = q + 2;
      continue;
    }
    std::string_view raw = data_.substr(body_begin, q - body_begin);
    if (escaped) {
      scratch_.append(data_.substr(p, q - p));
      spans_.push_back(
          {scratch_begin, scratch_.size() - scratch_begin, true, open_line, !allAscii(raw)});
    } else {
      spans_.push_back({body_begin, raw.size(), false, open_line, !allAscii(raw)});
    }
    pos_ = q + 1;
    return {};
  }
}

std::expected<std::optional<CsvRecord>, CsvError> CsvReader::next() {
  // Skip entirely empty lines (a trailing blank line is common in exports).
  for (;;) {
    if (pos_ >= data_.size()) return std::optional<CsvRecord>{};
    if (data_[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (data_[pos_] == '\r' && pos_ + 1 < data_.size() && data_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else {
      break;
    }
  }
  const long start_line = line_;
  spans_.clear();
  scratch_.clear();
  const std::size_t size = data_.size();
  for (std::size_t field_no = 1;; ++field_no) {
    if (pos_ < size && data_[pos_] == '"') {
      if (auto r = readQuoted(field_no); !r) return std::unexpected(std::move(r.error()));
      if (pos_ < size && data_[pos_] != ',' && data_[pos_] != '\n' &&
          !(data_[pos_] == '\r' && pos_ + 1 < size && data_[pos_ + 1] == '\n'))
        return std::unexpected(failAndSkip(field_no, line_, "text after the closing quote"));
    } else {
      std::size_t p = pos_;
      unsigned char acc = 0;
      while (p < size) {
        auto c = static_cast<unsigned char>(data_[p]);
        if (kStops[c]) break;
        acc = static_cast<unsigned char>(acc | c);
        ++p;
      }
      if (p < size && data_[p] == '"') {
        pos_ = p;
        return std::unexpected(failAndSkip(field_no, line_, "quote inside an unquoted field"));
      }
      if (p < size && data_[p] == '\r' && (p + 1 >= size || data_[p + 1] != '\n')) {
        pos_ = p;
        return std::unexpected(
            failAndSkip(field_no, line_, "carriage return without line feed outside quotes"));
      }
      spans_.push_back({pos_, p - pos_, false, line_, (acc & 0x80) != 0});
      pos_ = p;
    }
    if (pos_ >= size) break;
    if (data_[pos_] == ',') {
      ++pos_;
      continue;
    }
    pos_ += data_[pos_] == '\r' ? 2 : 1;  // CRLF or LF, checked above
    ++line_;
    break;
  }

  // Views are made only now: scratch_ may have moved while the record grew.
  fields_.resize(spans_.size());
  for (std::size_t i = 0; i < spans_.size(); ++i) {
    const Span& s = spans_[i];
    std::string_view v = s.unescaped ? std::string_view(scratch_).substr(s.begin, s.size)
                                     : data_.substr(s.begin, s.size);
    if (s.non_ascii && !isValidUtf8(v))
      return std::unexpected(CsvError{s.line, i + 1, "invalid UTF-8"});
    fields_[i] = v;
  }
  return CsvRecord{start_line, fields_};
}

}  // namespace kb::roster
