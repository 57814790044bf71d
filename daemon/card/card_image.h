#pragma once
/// Whole-memory images of NTAG213/215/216 in the raw .mfd layout that libnfc's
/// nfc-mfultralight (1.8) reads and writes: every page in order, 4 bytes each,
/// nothing else (180, 540 or 924 bytes).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "reader.h"

namespace kb::card {

struct Credential;

inline constexpr int kPageSize = 4;
inline constexpr int kCcPage = 3;
inline constexpr int kUserFirstPage = 4;

struct ChipLayout {
  reader::Chip chip;
  std::string_view name;  ///< "ntag213", ...
  int pages;              ///< total pages, config pages included
  int user_pages;         ///< user memory pages from page 4
  std::uint8_t cc_size;   ///< CC byte 2: data area size / 8
};

/// The layout of an NTAG21x, or nullptr for Chip::Unknown.
const ChipLayout* chipLayout(reader::Chip chip);
std::optional<reader::Chip> chipFromName(std::string_view name);

/// The NDEF TLV area holding `credential` (NDEF TLV + terminator).
std::string credentialArea(const Credential& credential);

/// A card image as on a fresh chip, with `user_area` written from page 4.
/// MALFORMED if the UID is not 7 bytes, TOO_LARGE if the area does not fit.
Result<std::string> formatCardImage(reader::Chip chip, std::string_view uid,
                                    std::string_view user_area);
/// The image of a personalised Kartu Bahagia card.
Result<std::string> encodeCardImage(reader::Chip chip, std::string_view uid,
                                    const Credential& credential);
/// A fresh NXP tag: CC written and an empty NDEF message (03 00 FE), as shipped.
Result<std::string> blankCardImage(reader::Chip chip, std::string_view uid);

}  // namespace kb::card
