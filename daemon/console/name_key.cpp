#include "console/name_key.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace kb::console {
namespace {

// Decodes one code point at `i`; nullopt (and i advanced by one) for a bad sequence.
std::optional<char32_t> nextCodePoint(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    ++i;
    return std::nullopt;
  }
  if (i + len > s.size()) {
    ++i;
    return std::nullopt;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return std::nullopt;
    }
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return std::nullopt;
  }
  i += len;
  return cp;
}

// U+00C0..U+00FF folded; "" separates words.
constexpr std::array<const char*, 64> kLatin1 = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};

struct Range {
  char32_t first, last;
  const char* folded;
};
// Latin Extended-A, U+0100..U+017F.
constexpr std::array<Range, 22> kLatinExtA = {{
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},  {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"}, {0x136, 0x138, "k"},  {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"}, {0x168, 0x173, "u"},  {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
}};

bool isApostrophe(char32_t cp) {
  return cp == '\'' || cp == '`' || cp == 0xB4 || cp == 0x2018 || cp == 0x2019 || cp == 0x02BC ||
         cp == 0x02BB || cp == 0x02B9 || cp == 0x2032;
}

bool isCombiningMark(char32_t cp) {
  return cp >= 0x300 && cp <= 0x36F;
}

// nullptr: separator; "": drop silently.
const char* fold(char32_t cp) {
  static thread_local char one[2] = {0, 0};
  if (cp < 0x80) {
    auto c = static_cast<char>(cp);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      one[0] = c;
      return one;
    }
    return isApostrophe(cp) ? "" : nullptr;
  }
  if (isApostrophe(cp) || isCombiningMark(cp)) return "";
  if (cp >= 0xC0 && cp <= 0xFF) {
    const char* f = kLatin1[cp - 0xC0];
    return *f ? f : nullptr;
  }
  for (const auto& r : kLatinExtA)
    if (cp >= r.first && cp <= r.last) return *r.folded ? r.folded : nullptr;
  return nullptr;
}

bool isVowel(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

struct Rule {
  std::string_view from, to;
};
// Old and new spellings, Arabic transliterations and Dutch-era digraphs.
constexpr std::array<Rule, 18> kRules = {{
    {"oe", "u"},
    {"dj", "j"},
    {"tj", "c"},
    {"sj", "s"},
    {"sy", "s"},
    {"nj", "ni"},
    {"ch", "h"},
    {"kh", "k"},
    {"dh", "d"},
    {"th", "t"},
    {"ph", "f"},
    {"ts", "s"},
    {"dz", "z"},
    {"gh", "g"},
    {"q", "k"},
    {"v", "f"},
    {"x", "ks"},
    {"y", "i"},
}};

// Spellings of Muhammad that the rules above do not bring together.
constexpr std::array<std::string_view, 7> kMuhamad = {"mohamad", "muhamat", "mohamat", "mohamed",
                                                      "muhamed", "mhd",     "muhamad"};

}  // namespace

bool validUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size())
    if (!nextCodePoint(text, i)) return false;
  return true;
}

std::vector<std::string> foldWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  std::size_t i = 0;
  while (i < text.size()) {
    auto cp = nextCodePoint(text, i);
    const char* f = cp ? fold(*cp) : nullptr;
    if (f == nullptr) {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += f;
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

std::string variantKey(std::string_view w) {
  std::string out;
  out.reserve(w.size());
  for (std::size_t i = 0; i < w.size();) {
    bool done = false;
    for (const auto& r : kRules) {
      if (w.substr(i, r.from.size()) == r.from) {
        out += r.to;
        i += r.from.size();
        done = true;
        break;
      }
    }
    if (!done) out += w[i++];
  }
  // Doubled letters are one (Muhammad, Hassan, Fadillah).
  out.erase(std::unique(out.begin(), out.end()), out.end());
  // A final h after a vowel is often left off (Fadillah/Fadilla, Nurhalizah).
  if (out.size() > 2 && out.back() == 'h' && isVowel(out[out.size() - 2])) out.pop_back();
  if (std::find(kMuhamad.begin(), kMuhamad.end(), out) != kMuhamad.end()) out = "muhamad";
  return out;
}

std::vector<std::string> indexTerms(std::string_view name) {
  const auto words = foldWords(name);
  std::vector<std::string> terms;
  for (const auto& w : words) terms.push_back(variantKey(w));
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    terms.push_back(variantKey(words[i] + words[i + 1]));
  return terms;
}

std::vector<std::vector<std::string>> queryAlternatives(std::string_view typed) {
  const auto words = foldWords(typed);
  std::vector<std::vector<std::string>> alts;
  if (words.empty()) return alts;
  std::vector<std::string> base;
  for (const auto& w : words) base.push_back(variantKey(w));
  alts.push_back(base);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    std::vector<std::string> alt(base.begin(), base.begin() + static_cast<long>(i));
    alt.push_back(variantKey(words[i] + words[i + 1]));
    alt.insert(alt.end(), base.begin() + static_cast<long>(i) + 2, base.end());
    alts.push_back(std::move(alt));
  }
  return alts;
}

bool matches(const std::vector<std::vector<std::string>>& alternatives,
             const std::vector<std::string>& terms) {
  return std::any_of(alternatives.begin(), alternatives.end(), [&](const auto& keys) {
    return !keys.empty() && std::all_of(keys.begin(), keys.end(), [&](const std::string& k) {
      return std::any_of(terms.begin(), terms.end(),
                         [&](const std::string& t) { return t.starts_with(k); });
    });
  });
}

}  // namespace kb::console
