#pragma once
/// How names typed over the phone are compared with names in the roster:
/// case, diacritics and apostrophes do not matter (Zoë = Zoe, Nur'aini =
/// Nuraini), and common Indonesian spelling variants share one key
/// (Muhamad/Muhammad, Rizky/Rizki, Fadillah/Fadila). The same functions build
/// the search index and re-check every answer, so the two cannot disagree.

#include <string>
#include <string_view>
#include <vector>

namespace kb::console {

/// True if `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool validUtf8(std::string_view text);

/// Lower-case ASCII words of `text`: letters folded to their base letter
/// (é → e, ß → ss), apostrophes dropped inside a word, everything else
/// separating words. `text` must be valid UTF-8 (invalid bytes separate words).
std::vector<std::string> foldWords(std::string_view text);

/// The spelling-variant key of one folded word (docs/console.md lists the rules).
std::string variantKey(std::string_view folded_word);

/// What a record is found by: the key of each word of its name, plus the key
/// of each two adjacent words written as one (Nur Aini is also "nuraini").
std::vector<std::string> indexTerms(std::string_view name);

/// The ways a typed name can match: its words' keys, and for each two adjacent
/// words the same list with those two written as one. Empty if no word.
std::vector<std::vector<std::string>> queryAlternatives(std::string_view typed);

/// True if, for some alternative, every key is a prefix of one of `terms`.
bool matches(const std::vector<std::vector<std::string>>& alternatives,
             const std::vector<std::string>& terms);

}  // namespace kb::console
