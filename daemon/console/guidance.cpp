#include "console/guidance.h"

#include <array>
#include <string_view>

#include "common/files.h"
#include "schema/schema.h"

namespace kb::console {
namespace {

// The programmes a guidance script explains: the domain schema's list.
constexpr const auto& kPrograms = schema::kGuidancePrograms;
constexpr std::array<std::string_view, 6> kCoveredSections = {"now",   "deadlines", "documents",
                                                              "where", "pays",      "special"};
constexpr std::array<std::string_view, 3> kNotCoveredSections = {"now", "steps", "who_can_pay"};

// Items are strings, or objects whose "text" is shown.
nlohmann::json items(const nlohmann::json& list) {
  nlohmann::json out = nlohmann::json::array();
  if (!list.is_array()) return out;
  for (const auto& item : list) {
    if (item.is_string())
      out.push_back(item);
    else if (item.is_object() && item.contains("text") && item["text"].is_string())
      out.push_back(item["text"]);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

Guidance Guidance::load(const std::filesystem::path& dir) {
  Guidance g;
  for (std::string_view lang : {"id", "en"}) {
    for (auto program : kPrograms) {
      auto text = readFile(dir / lang / (lower(program) + ".json"), 1 << 20);
      if (!text) continue;
      auto doc = nlohmann::json::parse(*text, nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) continue;
      g.content_[std::string(lang) + "/" + std::string(program)] = std::move(doc);
    }
  }
  return g;
}

nlohmann::json Guidance::script(const cache::Verdict& v, std::string_view lang_in) const {
  const std::string lang = lang_in == "en" ? "en" : "id";
  nlohmann::json programs = nlohmann::json::array();
  for (auto program : kPrograms) {
    nlohmann::json p = {{"program", program}};
    bool covered = false;
    if (v.card) {
      for (std::size_t i = 0; i < v.card->coverages.size(); ++i) {
        const auto& c = v.card->coverages[i];
        if (c.program != program) continue;
        const bool active = i < v.active_today.size() && v.active_today[i];
        if (active || !p.contains("coverage")) {
          p["coverage"] = {{"status", c.status},           {"valid_from", c.valid_from},
                           {"valid_to", c.valid_to},       {"funder", c.funder},
                           {"legal_basis", c.legal_basis}, {"active_today", active}};
          if (!c.activity.empty()) p["coverage"]["activity"] = c.activity;
          if (!c.sk_rt_no.empty()) p["coverage"]["sk_rt_no"] = c.sk_rt_no;
        }
        covered = covered || active;
      }
    }
    // A blocked card covers nothing the caller can use today.
    if (v.verdict == cache::VerdictCode::Blocked) covered = false;
    p["covered"] = covered;
    auto it = content_.find(lang + "/" + std::string(program));
    if (it == content_.end()) {
      p["sections"] = nlohmann::json::array();
      p["missing"] = true;
      programs.push_back(std::move(p));
      continue;
    }
    const auto& doc = it->second;
    p["title"] = doc.value("title", std::string(program));
    if (doc.contains("reviewed_on")) p["reviewed_on"] = doc["reviewed_on"];
    const char* part = covered ? "covered" : "not_covered";
    nlohmann::json sections = nlohmann::json::array();
    if (doc.contains(part) && doc[part].is_object()) {
      const auto& body = doc[part];
      auto add = [&](std::string_view key) {
        auto f = body.find(std::string(key));
        if (f == body.end()) return;
        auto list = items(*f);
        if (!list.empty()) sections.push_back({{"key", key}, {"items", std::move(list)}});
      };
      if (covered)
        for (auto k : kCoveredSections) add(k);
      else
        for (auto k : kNotCoveredSections) add(k);
    }
    p["sections"] = std::move(sections);
    if (covered && doc.contains("notes_bpu") && doc["notes_bpu"].is_string())
      p["notes"] = doc["notes_bpu"];
    programs.push_back(std::move(p));
  }
  return {{"lang", lang}, {"programs", std::move(programs)}};
}

}  // namespace kb::console
