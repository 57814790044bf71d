// Name-search recall on a variant set built from the synthetic roster: for a
// sample of cards, the holder's name as a caller might say it and an operator
// might type it (case, order, prefixes, diacritics, apostrophes, spelling
// variants), with the kelurahan. A query is a hit when the card is among the
// first 10 results. The variants are made here, by rules written independently
// of console/name_key.cpp. docs/console.md reports the figures.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "console/query.h"
#include "console/search.h"
#include "console_fixture.h"
#include "roster/roster.h"
#include "synthetic/synthetic.h"

namespace kb::console {
namespace {

using cache::testing::kNow;

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
std::string join(const std::vector<std::string>& ws) {
  std::string out;
  for (const auto& w : ws) out += (out.empty() ? "" : " ") + w;
  return out;
}
std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}
bool replaceFirst(std::string& s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  if (p == std::string::npos) return false;
  s.replace(p, from.size(), to);
  return true;
}

// Spellings heard for the same name (Indonesian naming practice), both ways.
const std::vector<std::pair<std::string, std::string>> kSpellings = {
    {"Muhammad", "Muhamad"},     {"Muhammad", "Mohammad"},  {"Rizki", "Rizky"},
    {"Rizki", "Rizqi"},          {"Syaiful", "Saiful"},     {"Fadillah", "Fadila"},
    {"Ramadhan", "Ramadan"},     {"Mukhlis", "Muklis"},     {"Zulkifli", "Zulkifly"},
    {"Qomaruddin", "Komarudin"}, {"Ya'qub", "Yakub"},       {"Hasan", "Hassan"},
    {"Abdullah", "Abdulah"},     {"Nurjanah", "Nurjannah"}, {"Aisyah", "Aisah"},
    {"Fatimah", "Fatima"},       {"Halimah", "Halima"},     {"Syahrial", "Sahrial"},
    {"Taufik", "Taufiq"},        {"Yusuf", "Yusuff"},       {"Rahmat", "Rachmat"},
    {"Ahmad", "Achmad"},         {"Effendi", "Efendi"},     {"Lukman", "Luqman"},
};

struct Variant {
  std::string cls, name;
};

std::vector<Variant> variantsOf(const std::string& full) {
  std::vector<Variant> out;
  auto ws = words(full);
  out.push_back({"exact, lower case", lower(full)});
  if (ws.size() > 1) {
    auto r = ws;
    std::reverse(r.begin(), r.end());
    out.push_back({"word order", join(r)});
    auto p = ws;
    p.back() = p.back().substr(0, std::min<std::size_t>(p.back().size(), 3));
    out.push_back({"prefix of the last word", join(p)});
  }
  {
    std::string d = full;
    static const std::vector<std::pair<std::string, std::string>> kAccents = {
        {"a", "á"}, {"e", "é"}, {"i", "ï"}, {"u", "ü"}, {"o", "ö"}};
    for (const auto& [from, to] : kAccents)
      if (replaceFirst(d, from, to)) break;
    out.push_back({"diacritics", d});
  }
  if (full.find('\'') != std::string::npos) {
    std::string a = full;
    a.erase(std::remove(a.begin(), a.end(), '\''), a.end());
    out.push_back({"apostrophe left out", a});
  }
  for (const auto& [x, y] : kSpellings) {
    std::string v = full;
    if (replaceFirst(v, x, y) || replaceFirst(v, y, x)) {
      out.push_back({"spelling variant", v});
      break;
    }
  }
  return out;
}

TEST(ConsoleRecall, VariantSetRecallAtTenWithKelurahan) {
  std::ostringstream csv;
  synthetic::SynthOptions so;
  so.cards = 5000;
  so.seed = 11;
  ASSERT_TRUE(synthetic::writeSyntheticRoster(csv, so));
  testing::StaffCache sc;
  testing::buildStaffCache(sc, csv.str());
  roster::RosterOptions ro;
  ro.profile = roster::Profile::Staff;
  ro.nik_key = testing::kNikKey;
  auto parsed = roster::parseRoster(csv.str(), "synth.csv", ro);
  ASSERT_TRUE(parsed);
  Searcher searcher(*sc.cache, *sc.root, sc.index(), testing::kNikKey);
  ASSERT_TRUE(searcher.prepare(kNow));

  struct Tally {
    int queries = 0, hits = 0, hits_name_only = 0;
  };
  std::map<std::string, Tally> by_class;
  Tally all;
  const auto& cards = parsed->cards;
  for (std::size_t i = 0; i < cards.size(); i += 10) {  // 500 cards
    const auto& card = cards[i];
    for (const auto& v : variantsOf(card.holder)) {
      auto rank = [&](bool with_kelurahan) {
        SearchQuery q;
        q.kind = QueryKind::Name;
        q.name = v.name;
        if (with_kelurahan) q.kelurahan = card.kelurahan;
        auto a = searcher.search(q, kNow);
        EXPECT_TRUE(a) << v.name;
        if (!a) return 99;
        for (std::size_t r = 0; r < a->results.size(); ++r)
          if (a->results[r].card_no == card.card_no) return static_cast<int>(r);
        return 99;
      };
      Tally& t = by_class[v.cls];
      const bool hit = rank(true) < 10, hit_name = rank(false) < 10;
      if (!hit && std::getenv("KB_RECALL_MISSES"))
        std::printf("miss: %s (%s) for %s\n", v.name.c_str(), v.cls.c_str(), card.holder.c_str());
      for (Tally* x : {&t, &all}) {
        x->queries++;
        x->hits += hit ? 1 : 0;
        x->hits_name_only += hit_name ? 1 : 0;
      }
    }
  }
  std::printf("%-26s %8s %22s %14s\n", "variant class", "queries", "recall@10 +kelurahan",
              "name only");
  for (const auto& [cls, t] : by_class)
    std::printf("%-26s %8d %21.1f%% %13.1f%%\n", cls.c_str(), t.queries, 100.0 * t.hits / t.queries,
                100.0 * t.hits_name_only / t.queries);
  std::printf("%-26s %8d %21.1f%% %13.1f%%\n", "all", all.queries, 100.0 * all.hits / all.queries,
              100.0 * all.hits_name_only / all.queries);
  EXPECT_GE(100.0 * all.hits / all.queries, 95.0);
  for (const auto& [cls, t] : by_class) EXPECT_GE(100.0 * t.hits / t.queries, 90.0) << cls;
}

}  // namespace
}  // namespace kb::console
