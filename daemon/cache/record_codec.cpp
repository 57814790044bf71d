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

std::string* coverageSlot(roster::Coverage& c, std::string_view k) {
  if (k == "activity") return &c.activity;
  if (k == "funder") return &c.funder;
  if (k == "legal_basis") return &c.legal_basis;
  if (k == "membership_no") return &c.membership_no;
  if (k == "program") return &c.program;
  if (k == "sk_rt_no") return &c.sk_rt_no;
  if (k == "status") return &c.status;
  if (k == "valid_from") return &c.valid_from;
  if (k == "valid_to") return &c.valid_to;
  return nullptr;
}

std::string* recordSlot(roster::CardRecord& r, std::string_view k) {
  if (k == "birth_hash") return &r.birth_hash;
  if (k == "card_no") return &r.card_no;
  if (k == "card_uid") return &r.card_uid;
  if (k == "category") return &r.category;
  if (k == "holder") return &r.holder;
  if (k == "kecamatan") return &r.kecamatan;
  if (k == "kelurahan") return &r.kelurahan;
  if (k == "nik_hash") return &r.nik_hash;
  if (k == "nik_last4") return &r.nik_last4;
  if (k == "occupation") return &r.occupation;
  if (k == "rt") return &r.rt;
  if (k == "status") return &r.status;
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
  field(out, first, "birth_hash", r.birth_hash);
  field(out, first, "card_no", r.card_no);
  field(out, first, "card_uid", r.card_uid);
  field(out, first, "category", r.category);
  if (!r.coverages.empty()) {
    if (!first) out.push_back(',');
    first = false;
    out += "\"coverages\":[";
    for (std::size_t i = 0; i < r.coverages.size(); ++i) {
      const auto& c = r.coverages[i];
      if (i) out.push_back(',');
      out.push_back('{');
      bool cfirst = true;
      field(out, cfirst, "activity", c.activity);
      field(out, cfirst, "funder", c.funder);
      field(out, cfirst, "legal_basis", c.legal_basis);
      field(out, cfirst, "membership_no", c.membership_no);
      field(out, cfirst, "program", c.program);
      field(out, cfirst, "sk_rt_no", c.sk_rt_no);
      field(out, cfirst, "status", c.status);
      field(out, cfirst, "valid_from", c.valid_from);
      field(out, cfirst, "valid_to", c.valid_to);
      out.push_back('}');
    }
    out.push_back(']');
  }
  field(out, first, "holder", r.holder);
  field(out, first, "kecamatan", r.kecamatan);
  field(out, first, "kelurahan", r.kelurahan);
  field(out, first, "nik_hash", r.nik_hash);
  field(out, first, "nik_last4", r.nik_last4);
  field(out, first, "occupation", r.occupation);
  field(out, first, "rt", r.rt);
  field(out, first, "status", r.status);
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
          rd, [&](std::string_view k) { return coverageSlot(c, k); }, "",
          [](CanonicalReader&) -> Result<void> { return std::unexpected(notCanonical()); });
      if (!read) return read;
      if (auto ok = checkCoverage(c, profile); !ok) return ok;
      r.coverages.push_back(std::move(c));
    } while (rd.eat(','));
    if (!rd.eat(']')) return std::unexpected(notCanonical());
    return {};
  };
  auto read = readObject(
      in, [&](std::string_view k) { return recordSlot(r, k); }, "coverages", coverages);
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
