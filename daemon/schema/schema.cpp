#include "schema/schema.h"

#include <algorithm>

namespace kb::schema {

bool isCardNo(std::string_view v) {
  if (v.size() < kCardNoMin || v.size() > kCardNoMax) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

namespace {
template <std::size_t N>
nlohmann::json array(const std::array<std::string_view, N>& list) {
  auto out = nlohmann::json::array();
  for (auto v : list) out.push_back(v);
  return out;
}
}  // namespace

nlohmann::json toJson() {
  return {{"card_no",
           {{"min_length", kCardNoMin}, {"max_length", kCardNoMax}, {"pattern", "^[0-9A-Z-]+$"}}},
          {"categories", array(kCategories)},
          {"card_statuses", array(kCardStatuses)},
          {"programs", array(kPrograms)},
          {"guidance_programs", array(kGuidancePrograms)},
          {"coverage_statuses", array(kCoverageStatuses)}};
}

}  // namespace kb::schema
