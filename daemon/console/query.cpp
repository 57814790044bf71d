#include "console/query.h"

#include <algorithm>
#include <vector>

#include "console/name_key.h"

namespace kb::console {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return fail(Errc::Malformed, "a '%' escape is cut short");
      int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return fail(Errc::Malformed, "a '%' escape is not two hex digits");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::size_t codePoints(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Letters (any script's bytes >= 0x80 are letters here; foldWords decides),
// spaces, apostrophes, hyphens, dots, commas; digits only if allowed.
Result<void> checkText(std::string_view what, std::string_view v, bool digits) {
  if (v.empty()) return fail(Errc::Malformed, std::string(what) + " is empty");
  if (!validUtf8(v)) return fail(Errc::Malformed, std::string(what) + " is not valid UTF-8");
  if (hasControl(v)) return fail(Errc::Malformed, std::string(what) + " holds control characters");
  if (codePoints(v) > kMaxNameChars)
    return fail(Errc::Malformed, std::string(what) + " is longer than 100 characters");
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '\'' ||
        c == '-' || c == '.' || c == ',' || c == '`')
      continue;
    if (digits && c >= '0' && c <= '9') continue;
    return fail(Errc::Malformed, std::string(what) +
                                     " may hold only letters, spaces, apostrophes, " +
                                     (digits ? "digits, " : "") + "hyphens and dots, not '" +
                                     std::string(1, ch) + "'");
  }
  auto words = foldWords(v);
  if (words.empty()) return fail(Errc::Malformed, std::string(what) + " has no letters");
  if (words.size() > kMaxNameWords)
    return fail(Errc::Malformed, std::string(what) + " has more than 8 words");
  return {};
}

}  // namespace

Result<std::string> parseCardNo(std::string_view text) {
  std::string v(text);
  std::transform(v.begin(), v.end(), v.begin(), [](char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  });
  if (v.size() < 6 || v.size() > 24 || !std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
      }))
    return fail(Errc::Malformed, "card_no must be 6 to 24 of 0-9, A-Z and '-'");
  return v;
}

Result<SearchQuery> parseSearchQuery(std::string_view qs) {
  if (qs.size() > kMaxQueryBytes) return fail(Errc::Malformed, "query longer than 1024 bytes");
  std::vector<std::pair<std::string, std::string>> params;
  while (!qs.empty()) {
    auto amp = qs.find('&');
    std::string_view pair = qs.substr(0, amp);
    qs.remove_prefix(amp == std::string_view::npos ? qs.size() : amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percentDecode(pair.substr(0, eq));
    if (!key) return std::unexpected(key.error());
    auto value = percentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value) return std::unexpected(value.error());
    if (*key != "card_no" && *key != "nik" && *key != "name" && *key != "kelurahan" && *key != "rt")
      return fail(Errc::Malformed,
                  "unknown parameter (expected card_no, nik, or name with kelurahan and rt)");
    for (const auto& [k, v] : params)
      if (k == *key) return fail(Errc::Malformed, *key + " given twice");
    params.emplace_back(std::move(*key), std::move(*value));
  }
  auto get = [&](std::string_view k) -> const std::string* {
    for (const auto& [key, v] : params)
      if (key == k) return &v;
    return nullptr;
  };
  const std::string *card = get("card_no"), *nik = get("nik"), *name = get("name"),
                    *kel = get("kelurahan"), *rt = get("rt");
  int keys = (card ? 1 : 0) + (nik ? 1 : 0) + (name ? 1 : 0);
  if (keys != 1) return fail(Errc::Malformed, "give exactly one of card_no, nik or name");
  if ((kel || rt) && !name) return fail(Errc::Malformed, "kelurahan and rt narrow a name search");
  SearchQuery q;
  if (card) {
    auto c = parseCardNo(*card);
    if (!c) return std::unexpected(c.error());
    q.kind = QueryKind::CardNo;
    q.card_no = std::move(*c);
    return q;
  }
  if (nik) {
    if (nik->size() != 16 ||
        !std::all_of(nik->begin(), nik->end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail(Errc::Malformed, "nik must be 16 digits");
    q.kind = QueryKind::Nik;
    q.nik = *nik;
    return q;
  }
  if (auto r = checkText("name", *name, false); !r) return std::unexpected(r.error());
  q.kind = QueryKind::Name;
  q.name = *name;
  if (kel && !kel->empty()) {
    if (auto r = checkText("kelurahan", *kel, true); !r) return std::unexpected(r.error());
    q.kelurahan = *kel;
  }
  if (rt && !rt->empty()) {
    if (rt->size() > 3 ||
        !std::all_of(rt->begin(), rt->end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::all_of(rt->begin(), rt->end(), [](char c) { return c == '0'; }))
      return fail(Errc::Malformed, "rt must be a number from 1 to 999");
    q.rt = std::string(3 - rt->size(), '0') + *rt;
  }
  return q;
}

}  // namespace kb::console
