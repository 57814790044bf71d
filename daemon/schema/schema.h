#pragma once
/// The domain's closed vocabularies and the card-number rule, defined once: the
/// roster parser, the bundle record codec, the card credential, the kiosk and the
/// web layer check against these, and the UI gets them from the daemon
/// (GET /api/schema, docs/contracts.md §4) instead of repeating them.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kb::schema {

/// A card number: 6-24 characters of 0-9, A-Z and '-' (e.g. KB-1571-0000001).
inline constexpr std::size_t kCardNoMin = 6;
inline constexpr std::size_t kCardNoMax = 24;
bool isCardNo(std::string_view card_no);

/// The holder's category (roster column `category`).
inline constexpr std::array<std::string_view, 7> kCategories{
    "pekerja_rentan", "petugas_keagamaan", "ketua_rt", "phl", "petugas_syara", "kader", "warga"};
/// The card's status (roster column `status`): only `active` cards are served as covered.
inline constexpr std::array<std::string_view, 4> kCardStatuses{"active", "suspended", "lost",
                                                               "revoked"};
/// Social-security programmes a coverage row may name (roster column `program`).
inline constexpr std::array<std::string_view, 5> kPrograms{"JKK", "JKM", "JHT", "JP", "JKN"};
/// The programmes the kiosk explains (guidance screens, QR codes to the public site).
inline constexpr std::array<std::string_view, 3> kGuidancePrograms{"JKK", "JKM", "JKN"};
/// A coverage's status (roster column `coverage_status`).
inline constexpr std::array<std::string_view, 3> kCoverageStatuses{"active", "inactive", "ended"};

template <std::size_t N>
constexpr bool isOneOf(std::string_view value, const std::array<std::string_view, N>& list) {
  for (auto v : list)
    if (v == value) return true;
  return false;
}
inline bool isCategory(std::string_view v) {
  return isOneOf(v, kCategories);
}
inline bool isCardStatus(std::string_view v) {
  return isOneOf(v, kCardStatuses);
}
inline bool isProgram(std::string_view v) {
  return isOneOf(v, kPrograms);
}
inline bool isGuidanceProgram(std::string_view v) {
  return isOneOf(v, kGuidancePrograms);
}
inline bool isCoverageStatus(std::string_view v) {
  return isOneOf(v, kCoverageStatuses);
}

/// "a, b or c", for error messages.
template <std::size_t N>
std::string listText(const std::array<std::string_view, N>& list) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i) out += i + 1 == N ? " or " : ", ";
    out += list[i];
  }
  return out;
}

/// The lists above as one JSON document: {card_no: {min, max, pattern}, categories,
/// card_statuses, programs, guidance_programs, coverage_statuses}.
nlohmann::json toJson();

}  // namespace kb::schema
