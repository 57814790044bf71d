#include "cache/record_codec.h"

#include <algorithm>
#include <array>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/time.h"
#include "schema/schema.h"
#include "trust/trust.h"

namespace kb::cache {
namespace {

using nlohmann::json;

bool isDigits(std::string_view s, std::size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Canonical JSON is what trust::canonicalJson (nlohmann's dump, UTF-8 as-is)
// produces. Records are encoded and checked here by hand, because they are the
// bulk of every publish and import: a DOM round trip per record cost about two
// thirds of the import time. A test compares both encoders.

bool plainAscii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void appendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  auto raw = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return plainAscii(u) || u >= 0x80;
  };
  if (std::all_of(s.begin(), s.end(), raw)) {
    out.append(s);  // nothing to escape (the common case)
    out.push_back('"');
    return;
  }
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

// Appends `"key":"value"` (with a leading comma unless first) if value is set.
void field(std::string& out, bool& first, std::string_view key, const std::string& value) {
  if (value.empty()) return;
  if (!first) out.push_back(',');
  first = false;
  out.push_back('"');
  out.append(key);
  out += "\":";
  appendEscaped(out, value);
}

// Length of the UTF-8 sequence at s[i] if it is valid and shortest-form, else 0.
std::size_t utf8Length(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  unsigned c = at(i);
  auto cont = [&](std::size_t k) { return (at(k) & 0xC0u) == 0x80u; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned c1 = at(i + 1);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) return 0;  // overlong, surrogate
    return cont(i + 1) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned c1 = at(i + 1);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) return 0;  // overlong, > U+10FFFF
    return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// A reader that accepts canonical JSON only: no whitespace, object keys in
// strictly increasing byte order (so no duplicates), strings escaped exactly as
// the encoder escapes them, valid UTF-8.
class CanonicalReader {
 public:
  explicit CanonicalReader(std::string_view s) : s_(s) {}
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool atEnd() const { return pos_ == s_.size(); }

  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < s_.size()) {
      // Plain ASCII runs are copied in one go (the common case).
      std::size_t run = pos_;
      while (run < s_.size() && plainAscii(static_cast<unsigned char>(s_[run]))) ++run;
      if (run > pos_) {
        out.append(s_.substr(pos_, run - pos_));
        pos_ = run;
        continue;
      }
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) return std::nullopt;
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return std::nullopt;
        char e = s_[pos_ + 1];
        pos_ += 2;
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            // Only control characters without a short form are \u-escaped.
            if (pos_ + 4 > s_.size() || s_.substr(pos_, 2) != "00") return std::nullopt;
            int v = 0;
            for (char h : s_.substr(pos_ + 2, 2)) {
              if (h >= '0' && h <= '9')
                v = v * 16 + (h - '0');
              else if (h >= 'a' && h <= 'f')
                v = v * 16 + (h - 'a' + 10);
              else
                return std::nullopt;
            }
            if (v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
              return std::nullopt;
            out.push_back(static_cast<char>(v));
            pos_ += 4;
            break;
          }
          default:
            return std::nullopt;
        }
        continue;
      }
      std::size_t n = c < 0x80 ? 1 : utf8Length(s_, pos_);
      if (n == 0) return std::nullopt;
      out.append(s_.substr(pos_, n));
      pos_ += n;
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

Error notCanonical() {
  return Error{Errc::Malformed, "record is not canonical JSON"};
}

// Reads one object whose values are strings, except under `array_key` (an
// array of such objects, read by `on_array`). Keys must be known (`assign`).
template <class Assign, class OnArray>
Result<void> readObject(CanonicalReader& in, Assign assign, std::string_view array_key,
                        OnArray on_array) {
  if (!in.eat('{')) return std::unexpected(notCanonical());
  std::string prev;
  bool first = true;
  if (in.eat('}')) return {};
  do {
    auto key = in.string();
    if (!key || !in.eat(':')) return std::unexpected(notCanonical());
    if (!first && *key <= prev)
      return fail(Errc::Malformed, "record keys are not in canonical order");
    first = false;
    if (*key == array_key) {
      if (auto r = on_array(in); !r) return r;
    } else {
      auto value = in.string();
      if (!value) return std::unexpected(notCanonical());
      if (value->empty()) return fail(Errc::Malformed, "'" + *key + "' is empty (omit it instead)");
      std::string* slot = assign(*key);
      if (!slot) return fail(Errc::Malformed, "unknown field '" + *key + "'");
      *slot = std::move(*value);
    }
    prev = std::move(*key);
  } while (in.eat(','));
  if (!in.eat('}')) return std::unexpected(notCanonical());
  return {};
}

// The record's and a coverage's text fields, each once, in canonical (byte) order of
// their keys: encodeRecord writes them in this order and decodeRecord finds a key's
// field here. A record's "coverages" array sorts between "category" and "holder".
template <class T>
struct TextField {
  std::string_view key;
  std::string T::*member;
};
constexpr std::array<TextField<roster::Coverage>, 9> kCoverageFields{{
    {"activity", &roster::Coverage::activity},
    {"funder", &roster::Coverage::funder},
    {"legal_basis", &roster::Coverage::legal_basis},
    {"membership_no", &roster::Coverage::membership_no},
    {"program", &roster::Coverage::program},
    {"sk_rt_no", &roster::Coverage::sk_rt_no},
    {"status", &roster::Coverage::status},
    {"valid_from", &roster::Coverage::valid_from},
    {"valid_to", &roster::Coverage::valid_to},
}};
constexpr std::array<TextField<roster::CardRecord>, 12> kRecordFields{{
    {"birth_hash", &roster::CardRecord::birth_hash},
    {"card_no", &roster::CardRecord::card_no},
    {"card_uid", &roster::CardRecord::card_uid},
    {"category", &roster::CardRecord::category},
    {"holder", &roster::CardRecord::holder},
    {"kecamatan", &roster::CardRecord::kecamatan},
    {"kelurahan", &roster::CardRecord::kelurahan},
    {"nik_hash", &roster::CardRecord::nik_hash},
    {"nik_last4", &roster::CardRecord::nik_last4},
    {"occupation", &roster::CardRecord::occupation},
    {"rt", &roster::CardRecord::rt},
    {"status", &roster::CardRecord::status},
}};
constexpr std::string_view kCoveragesKey = "coverages";

template <class T, std::size_t N>
constexpr bool inCanonicalOrder(const std::array<TextField<T>, N>& fields) {
  for (std::size_t i = 1; i < N; ++i)
    if (!(fields[i - 1].key < fields[i].key)) return false;
  return true;
}
static_assert(inCanonicalOrder(kCoverageFields));
static_assert(inCanonicalOrder(kRecordFields));

template <class T, std::size_t N>
std::string* slotOf(const std::array<TextField<T>, N>& fields, T& object, std::string_view k) {
  for (const auto& f : fields)
    if (f.key == k) return &(object.*f.member);
  return nullptr;
}

Result<void> checkCoverage(const roster::Coverage& c, roster::Profile profile) {
  for (auto [name, value] : {std::pair<const char*, const std::string*>{"program", &c.program},
                             {"status", &c.status},
                             {"valid_from", &c.valid_from},
                             {"valid_to", &c.valid_to},
                             {"funder", &c.funder}})
    if (value->empty()) return fail(Errc::Malformed, std::string("coverage lacks '") + name + "'");
  if (!schema::isProgram(c.program))
    return fail(Errc::Malformed, "coverage program must be " + schema::listText(schema::kPrograms));
  if (!schema::isCoverageStatus(c.status))
    return fail(Errc::Malformed,
                "coverage status must be " + schema::listText(schema::kCoverageStatuses));
  auto from = parseDate(c.valid_from), to = parseDate(c.valid_to);
  if (!from || !to || *from > *to)
    return fail(Errc::Malformed, "coverage validity must be two dates, valid_from <= valid_to");
  if (profile == roster::Profile::Kiosk && !c.membership_no.empty())
    return fail(Errc::Malformed, "membership_no is staff-profile data");
  return {};
}

}  // namespace

std::string_view profileName(roster::Profile profile) {
  return profile == roster::Profile::Kiosk ? "kiosk" : "staff";
}

Result<roster::Profile> parseProfile(std::string_view name) {
  if (name == "kiosk") return roster::Profile::Kiosk;
  if (name == "staff") return roster::Profile::Staff;
  return fail(Errc::Malformed, "profile must be kiosk or staff");
}

bool validCardNo(std::string_view s) {
  return schema::isCardNo(s);
}

std::string encodeRecord(const roster::CardRecord& r) {
  // Keys in byte order: the canonical form.
  std::string out;
  out.reserve(512);
  out.push_back('{');
  bool first = true;
  auto coverages = [&] {
    if (r.coverages.empty()) return;
    if (!first) out.push_back(',');
    first = false;
    out += '"';
    out += kCoveragesKey;
    out += "\":[";
    for (std::size_t i = 0; i < r.coverages.size(); ++i) {
      if (i) out.push_back(',');
      out.push_back('{');
      bool cfirst = true;
      for (const auto& f : kCoverageFields) field(out, cfirst, f.key, r.coverages[i].*f.member);
      out.push_back('}');
    }
    out.push_back(']');
  };
  bool coverages_written = false;
  for (const auto& f : kRecordFields) {
    if (!coverages_written && f.key > kCoveragesKey) {
      coverages();
      coverages_written = true;
    }
    field(out, first, f.key, r.*f.member);
  }
  if (!coverages_written) coverages();
  out.push_back('}');
  return out;
}

std::string encodeDeletion(std::string_view card_no) {
  return trust::canonicalJson(json{{"card_no", std::string(card_no)}, {"deleted", true}});
}

Result<roster::CardRecord> decodeRecord(std::string_view text, roster::Profile profile) {
  roster::CardRecord r;
  CanonicalReader in(text);
  auto coverages = [&](CanonicalReader& rd) -> Result<void> {
    if (!rd.eat('[') || rd.eat(']'))
      return fail(Errc::Malformed, "'coverages' must be a non-empty array (omit it when empty)");
    do {
      roster::Coverage c;
      auto read = readObject(
          rd, [&](std::string_view k) { return slotOf(kCoverageFields, c, k); }, "",
          [](CanonicalReader&) -> Result<void> { return std::unexpected(notCanonical()); });
      if (!read) return read;
      if (auto ok = checkCoverage(c, profile); !ok) return ok;
      r.coverages.push_back(std::move(c));
    } while (rd.eat(','));
    if (!rd.eat(']')) return std::unexpected(notCanonical());
    return {};
  };
  auto read = readObject(
      in, [&](std::string_view k) { return slotOf(kRecordFields, r, k); }, kCoveragesKey,
      coverages);
  if (!read) return std::unexpected(read.error());
  if (!in.atEnd()) return std::unexpected(notCanonical());
  for (auto [name, value] : {std::pair<const char*, const std::string*>{"card_no", &r.card_no},
                             {"status", &r.status},
                             {"holder", &r.holder},
                             {"category", &r.category},
                             {"kecamatan", &r.kecamatan},
                             {"kelurahan", &r.kelurahan},
                             {"rt", &r.rt}})
    if (value->empty()) return fail(Errc::Malformed, std::string("record lacks '") + name + "'");
  if (!validCardNo(r.card_no)) return fail(Errc::Malformed, "card_no must match [0-9A-Z-]{6,24}");
  if (!r.card_uid.empty() &&
      ((r.card_uid.size() != 8 && r.card_uid.size() != 14) || !isLowerHex(r.card_uid)))
    return fail(Errc::Malformed, "card_uid must be 8 or 14 lower-case hex digits");
  if (!schema::isCardStatus(r.status))
    return fail(Errc::Malformed, "status must be " + schema::listText(schema::kCardStatuses));
  if (!schema::isCategory(r.category))
    return fail(Errc::Malformed, "category must be " + schema::listText(schema::kCategories));
  if (!isDigits(r.rt, 3) || r.rt == "000") return fail(Errc::Malformed, "rt must be 001-999");
  if (profile == roster::Profile::Kiosk) {
    if (!r.birth_hash.empty() || !r.nik_hash.empty() || !r.nik_last4.empty())
      return fail(Errc::Malformed,
                  "NIK and birth date are staff-profile data, not allowed on kiosks");
  } else {
    // A plain birth date ("birth_date") is an unknown key, so refused like any other.
    // 32 hex digits (128 bits); bundles made before the cut hold all 64.
    auto keyed = [](const std::string& h) {
      return (h.size() == 32 || h.size() == 64) && isLowerHex(h);
    };
    if (!r.birth_hash.empty() && !keyed(r.birth_hash))
      return fail(Errc::Malformed, "birth_hash must be 32 (or 64) lower-case hex digits");
    if (!r.nik_hash.empty() && !keyed(r.nik_hash))
      return fail(Errc::Malformed, "nik_hash must be 32 (or 64) lower-case hex digits");
    if (!r.nik_last4.empty() && !isDigits(r.nik_last4, 4))
      return fail(Errc::Malformed, "nik_last4 must be 4 digits");
  }
  return r;
}

std::string_view peekCardNo(std::string_view text) {
  constexpr std::string_view kKey = "\"card_no\":\"";
  auto pos = text.find(kKey);
  if (pos == std::string_view::npos) return {};
  auto start = pos + kKey.size();
  auto end = text.find('"', start);
  if (end == std::string_view::npos) return {};
  return text.substr(start, end - start);
}

}  // namespace kb::cache
