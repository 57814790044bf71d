#pragma once
/// Byte-string encodings used in signed documents and on cards.

#include <optional>
#include <string>
#include <string_view>

namespace kb {

std::string hexEncode(std::string_view bytes);                   ///< lower-case
std::optional<std::string> hexDecode(std::string_view hex);      ///< either case
std::string base64Encode(std::string_view bytes);                ///< RFC 4648, padded
std::optional<std::string> base64Decode(std::string_view text);  ///< strict, padded

}  // namespace kb
