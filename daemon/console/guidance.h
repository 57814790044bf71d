#pragma once
/// The guidance script the operator reads to the caller: the kiosk's guidance
/// content (UI_DIR/content/guidance/{id,en}/{program}.json), chosen per
/// programme by whether the holder is covered today, with the coverage's own
/// funder, dates, Kampung Bahagia activity and SK number.

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "cache/verdict.h"

namespace kb::console {

class Guidance {
 public:
  /// Reads every {lang}/{program}.json under `dir`; unreadable files are left
  /// out (the script then says so) rather than stopping the console.
  static Guidance load(const std::filesystem::path& dir);

  /// {"lang", "programs": [{program, title, covered, coverage?, sections: [{key, items}],
  ///  notes?, reviewed_on}]}; lang is "id" or "en" (anything else: "id").
  nlohmann::json script(const cache::Verdict& verdict, std::string_view lang) const;

  std::size_t documents() const { return content_.size(); }

 private:
  std::map<std::string, nlohmann::json> content_;  // "id/JKK" -> document
};

}  // namespace kb::console
