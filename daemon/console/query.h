#pragma once
/// The console's search parameters, checked before anything touches the index:
/// exactly one of card_no, nik or name (kelurahan and rt only with name).
/// Every rejection is MALFORMED with a sentence for the operator; the HTTP
/// layer answers it with 400. Nothing that passes can be FTS syntax: a name
/// holds letters, spaces, apostrophes, hyphens, dots and commas only.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::console {

inline constexpr std::size_t kMaxQueryBytes = 1024;  ///< the whole query string, encoded
inline constexpr std::size_t kMaxNameChars = 100;    ///< as in the roster
inline constexpr std::size_t kMaxNameWords = 8;

enum class QueryKind { CardNo, Nik, Name };

struct SearchQuery {
  QueryKind kind = QueryKind::CardNo;
  std::string card_no;  ///< upper-case, [0-9A-Z-]{6,24}
  std::string nik;      ///< 16 digits; kept in memory only, never logged or stored
  std::string name;     ///< as typed (valid UTF-8)
  std::string kelurahan;
  std::string rt;  ///< three digits, "001".."999", or empty
};

/// Parses the part of a request target after '?' (percent- and '+'-decoded).
Result<SearchQuery> parseSearchQuery(std::string_view query_string);

/// A card number as printed on the card (upper-cased); MALFORMED otherwise.
Result<std::string> parseCardNo(std::string_view text);

}  // namespace kb::console
