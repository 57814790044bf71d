#include "publicsite/public_site.h"

#include <array>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "schema/schema.h"

namespace kb::publicsite {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::array<std::string_view, 2> kLangs{"id", "en"};

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<json> readJson(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return fail(Errc::Io, "cannot read " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return fail(Errc::Malformed, file.string() + ": not a JSON object");
  return doc;
}

std::string t(const json& dict, const std::string& key) {
  auto it = dict.find(key);
  return it != dict.end() && it->is_string() ? it->get<std::string>() : key;
}

// {date}, {from}, {to}, {program}: on a public page nobody's dates are known.
std::string generic(std::string text, const json& dict) {
  for (auto [from, to] : std::array<std::pair<std::string_view, std::string>, 4>{
           {{"{date}", t(dict, "public.the_date")},
            {"{from}", t(dict, "public.the_start")},
            {"{to}", t(dict, "public.the_end")},
            {"{program}", ""}}}) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  }
  return text;
}

std::string itemHtml(const json& item, const json& content, const json& dict) {
  if (item.is_string()) return esc(generic(item.get<std::string>(), dict));
  if (!item.is_object() || !item.contains("text") || !item["text"].is_string()) return {};
  std::string out = esc(generic(item["text"].get<std::string>(), dict));
  std::vector<std::string> notes;
  std::string refs;
  auto add_ref = [&](const json& s) {
    if (s.is_number_integer() && s.get<long>() >= 0 && content.contains("sources") &&
        static_cast<std::size_t>(s.get<long>()) < content["sources"].size())
      refs += "<a href=\"#src-" + std::to_string(s.get<long>() + 1) + "\">[" +
              std::to_string(s.get<long>() + 1) + "]</a>";
  };
  if (item.contains("source")) {
    if (item["source"].is_array())
      for (const auto& s : item["source"]) add_ref(s);
    else
      add_ref(item["source"]);
  }
  if (item.contains("as_of") && item["as_of"].is_string()) {
    std::string as_of = t(dict, "guidance.as_of");
    auto at = as_of.find("{date}");
    if (at != std::string::npos) as_of.replace(at, 6, item["as_of"].get<std::string>());
    notes = {esc(as_of)};
  }
  if (!refs.empty()) notes.push_back(refs);
  if (!notes.empty()) {
    out += " <span class=\"ref\">(";
    for (std::size_t i = 0; i < notes.size(); ++i) out += (i ? ", " : "") + notes[i];
    out += ")</span>";
  }
  return out;
}

std::string onlyNote(const json& item, const json& dict) {
  if (!item.is_object() || !item.contains("only") || !item["only"].is_string()) return {};
  return " <span class=\"only\">(" +
         esc(t(dict, "public.only." + item["only"].get<std::string>())) + ")</span>";
}

std::string list(const std::string& title, const json& items, const json& content, const json& dict,
                 bool numbered = false) {
  if (!items.is_array() || items.empty()) return {};
  std::string out = "<h3>" + esc(title) + "</h3>\n<" + (numbered ? "ol" : "ul") + ">\n";
  for (const auto& item : items)
    out += "<li>" + itemHtml(item, content, dict) + onlyNote(item, dict) + "</li>\n";
  out += numbered ? "</ol>\n" : "</ul>\n";
  return out;
}

std::string para(const json& v, const json& content, const json& dict) {
  if (v.is_null()) return {};
  return "<p class=\"note\">" + itemHtml(v, content, dict) + "</p>\n";
}

std::string langSection(std::string_view lang, const json& g, const json& dict) {
  const json& c = g.value("covered", json::object());
  const json& n = g.value("not_covered", json::object());
  std::string out =
      "<section lang=\"" + std::string(lang) + "\" id=\"" + std::string(lang) + "\">\n";
  out += "<h1>" + esc(g.value("title", "")) + "</h1>\n";
  out += "<p class=\"call\">" + esc(t(dict, "guidance.call")) + " " +
         esc(t(dict, "guidance.call_line")) + " <strong>112</strong> · " +
         esc(t(dict, "guidance.call_ambulance")) + "</p>\n";
  out += "<p class=\"lead\">" + esc(t(dict, "public.lead")) + "</p>\n";
  out += "<h2>" + esc(t(dict, "public.covered")) + "</h2>\n";
  // The kiosk asks when it happened; a public page says it: cover on that day is what counts.
  if (g.contains("question")) out += "<p class=\"note\">" + esc(t(dict, "public.past")) + "</p>\n";
  out += list(t(dict, "guidance.now"), c.value("now", json::array()), g, dict, true);
  out += list(t(dict, "guidance.deadlines"), c.value("deadlines", json::array()), g, dict);
  out += list(t(dict, "guidance.documents"), c.value("documents", json::array()), g, dict);
  out += list(t(dict, "guidance.where"), c.value("where", json::array()), g, dict);
  out += list(t(dict, "guidance.pays"), c.value("pays", json::array()), g, dict);
  out += list(t(dict, "guidance.special"), c.value("special", json::array()), g, dict);
  if (g.contains("notes_bpu") && g["notes_bpu"].is_array())
    out += list(t(dict, "guidance.bpu_note"), g["notes_bpu"], g, dict);
  if (g.contains("lapsed")) out += list(t(dict, "guidance.jkn_lapsed"), g["lapsed"], g, dict);
  out += "<h2>" + esc(t(dict, "public.not_covered")) + "</h2>\n";
  out += list(t(dict, "guidance.now"), n.value("now", json::array()), g, dict, true);
  if (n.contains("already_happened")) out += para(n["already_happened"], g, dict);
  out += list(t(dict, "guidance.steps"), n.value("steps", json::array()), g, dict, true);
  out += list(t(dict, "guidance.who_can_pay"), n.value("who_can_pay", json::array()), g, dict);
  if (n.contains("routes") && n["routes"].is_object()) {
    out += "<h3>" + esc(t(dict, "public.routes")) + "</h3>\n<dl>\n";
    for (const auto& [key, items] : n["routes"].items()) {
      std::string label = key == "renewal" ? t(dict, "public.renewal") : t(dict, "category." + key);
      out += "<dt>" + esc(label) + "</dt>\n";
      for (const auto& item : items) out += "<dd>" + itemHtml(item, g, dict) + "</dd>\n";
    }
    out += "</dl>\n";
  }
  out += list(t(dict, "guidance.contacts"), g.value("contacts", json::array()), g, dict);
  out += list(t(dict, "guidance.complaints"), g.value("complaints", json::array()), g, dict);
  out += "<h3>" + esc(t(dict, "guidance.sources")) + "</h3>\n<ol class=\"sources\">\n";
  int i = 0;
  for (const auto& s : g.value("sources", json::array())) {
    ++i;
    std::string title = s.value("title", "");
    std::string ref = s.value("url_or_ref", "");
    out += "<li id=\"src-" + std::to_string(i) + "\">" + esc(title) +
           (ref.empty() || ref == title ? "" : " — " + esc(ref)) + "</li>\n";
  }
  out += "</ol>\n";
  if (g.contains("reviewed_on") && g["reviewed_on"].is_string()) {
    std::string line = t(dict, "guidance.reviewed_on");
    auto at = line.find("{date}");
    if (at != std::string::npos) line.replace(at, 6, g["reviewed_on"].get<std::string>());
    out += "<p class=\"reviewed\">" + esc(line) + "</p>\n";
  }
  out += "</section>\n";
  return out;
}

constexpr std::string_view kStyle =
    "body{font-family:'Liberation Sans','DejaVu Sans',Arial,sans-serif;margin:0 auto;max-width:"
    "44rem;padding:1rem;line-height:1.45;color:#1b2326;background:#f6f1e7;font-size:1.1rem}"
    "h1{color:#0d4a5e;font-size:1.7rem}h2{color:#0d4a5e;border-top:3px solid #c9932e;padding-top:"
    ".6rem}h3{color:#0d4a5e;font-size:1.15rem}.call{background:#0d4a5e;color:#fff;padding:.6rem "
    ".9rem;border-radius:.5rem}.call strong{font-size:1.6rem}.note{background:#fff;border:1px "
    "solid #9a9388;padding:.5rem .8rem;border-radius:.5rem}.ref,.only,.reviewed,.sources{color:"
    "#3f4c55}.langs a{margin-right:1rem}nav.langs{margin-bottom:1rem}html.lang-en "
    "section#id,html.lang-id section#en{display:none}";

// The page reads ?lang= itself (no server logic needed); without script both languages show.
constexpr std::string_view kLangScript =
    "<script>(function(){var l=new URLSearchParams(location.search).get('lang');"
    "if(l==='id'||l==='en')document.documentElement.className='lang-'+l;})();</script>";

std::string page(std::string_view title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
         "'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'\">\n"
         "<meta name=\"referrer\" content=\"no-referrer\">\n<title>" +
         esc(title) + "</title>\n<style>" + std::string(kStyle) + "</style>\n" +
         std::string(kLangScript) + "\n</head>\n<body>\n" + body + "</body>\n</html>\n";
}

}  // namespace

Result<std::vector<fs::path>> buildSite(const fs::path& content_dir, const fs::path& out_dir) {
  std::map<std::string, json, std::less<>> dicts;
  for (auto lang : kLangs) {
    auto d = readJson(content_dir / "i18n" / (std::string(lang) + ".json"));
    if (!d) return std::unexpected(d.error());
    dicts[std::string(lang)] = std::move(*d);
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return fail(Errc::Io, "cannot create " + out_dir.string() + ": " + ec.message());
  std::vector<fs::path> written;
  auto write = [&](const fs::path& file, const std::string& text) -> Result<void> {
    fs::create_directories(file.parent_path(), ec);
    if (auto r = writeFileAtomic(file, text); !r) return r;
    written.push_back(file);
    return {};
  };
  std::string index_links;
  // One page per programme the kiosk explains (the schema's list), named in lower case.
  for (auto code : schema::kGuidancePrograms) {
    std::string program(code);
    for (auto& c : program) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string body =
        "<nav class=\"langs\"><a href=\"?lang=id\">Bahasa Indonesia</a>"
        "<a href=\"?lang=en\">English</a></nav>\n";
    std::string title;
    for (auto lang : kLangs) {
      auto g =
          readJson(content_dir / "guidance" / std::string(lang) / (std::string(program) + ".json"));
      if (!g) return std::unexpected(g.error());
      if (title.empty()) title = g->value("title", std::string(program));
      body += langSection(lang, *g, dicts[std::string(lang)]);
      index_links += "<li lang=\"" + std::string(lang) + "\"><a href=\"" + std::string(program) +
                     "?lang=" + std::string(lang) + "\">" + esc(g->value("title", "")) +
                     "</a></li>\n";
    }
    const std::string html = page(title + " · Kartu Bahagia", body);
    // Both spellings of the QR target: <base>/jkk (a directory) and <base>/jkk.html.
    for (const auto& file :
         {out_dir / program / "index.html", out_dir / (std::string(program) + ".html")})
      if (auto r = write(file, html); !r) return std::unexpected(r.error());
  }
  const std::string index =
      page("Kartu Bahagia · Panduan / Guidance",
           "<h1>Kartu Bahagia · Kota Jambi</h1>\n<p>" + esc(t(dicts["id"], "public.index")) +
               "</p>\n<p lang=\"en\">" + esc(t(dicts["en"], "public.index")) + "</p>\n<ul>\n" +
               index_links + "</ul>\n");
  if (auto r = write(out_dir / "index.html", index); !r) return std::unexpected(r.error());
  return written;
}

}  // namespace kb::publicsite
