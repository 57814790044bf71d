// The synthetic roster generator (test and demo data): deterministic bytes, and
// rosters that the real roster parser accepts with realistic content.
#include "synthetic/synthetic.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "crypto/crypto.h"
#include "roster/roster.h"

namespace kb::synthetic {
namespace {

std::string synth(const SynthOptions& o, SynthStats* stats = nullptr) {
  std::ostringstream out;
  auto s = writeSyntheticRoster(out, o);
  EXPECT_TRUE(s);
  if (stats && s) *stats = *s;
  return out.str();
}

TEST(Synthetic, SameSeedSameBytesOtherSeedOtherBytes) {
  SynthOptions o{2000, 42, 0, 0};
  std::string a = crypto::sha256(synth(o));
  EXPECT_EQ(a, crypto::sha256(synth(o)));
  o.change_seed = 99;  // no effect without a change percent
  EXPECT_EQ(a, crypto::sha256(synth(o)));
  o.seed = 43;
  EXPECT_NE(a, crypto::sha256(synth(o)));
}

TEST(Synthetic, FiveThousandCardsParseCleanlyWithRealisticContent) {
  SynthStats stats;
  std::string csv = synth({5000, 7, 0, 0}, &stats);
  EXPECT_EQ(stats.cards, 5000u);
  auto r = roster::parseRoster(csv, "synth.csv", roster::RosterOptions{});
  ASSERT_TRUE(r) << r.error()[0].format();
  EXPECT_EQ(r->cards.size(), 5000u);
  EXPECT_EQ(r->rows, stats.rows);
  EXPECT_TRUE(r->warnings.empty());

  std::set<std::string> kecamatan, kelurahan, categories, statuses, legal;
  std::size_t no_uid = 0, no_cover = 0, kampung = 0, apostrophes = 0;
  for (const auto& c : r->cards) {
    kecamatan.insert(c.kecamatan);
    kelurahan.insert(c.kecamatan + "/" + c.kelurahan);
    categories.insert(c.category);
    statuses.insert(c.status);
    if (c.card_uid.empty())
      ++no_uid;
    else
      EXPECT_TRUE(c.card_uid.size() == 14 && c.card_uid.starts_with("04")) << c.card_uid;
    if (c.coverages.empty()) ++no_cover;
    for (const auto& cov : c.coverages) {
      legal.insert(cov.legal_basis);
      if (!cov.sk_rt_no.empty()) {
        ++kampung;
        EXPECT_EQ(cov.sk_rt_no.substr(0, 5 + 3), "SK/RT" + c.rt);
        EXPECT_EQ(cov.legal_basis, "Perwal Jambi No. 18 Tahun 2025");
      }
    }
  }
  for (std::size_t pos = csv.find('\''); pos != std::string::npos; pos = csv.find('\'', pos + 1))
    ++apostrophes;
  EXPECT_EQ(kecamatan.size(), 11u);
  EXPECT_EQ(kelurahan.size(), 62u);
  EXPECT_EQ(categories.size(), 7u);
  EXPECT_EQ(statuses.size(), 4u);
  EXPECT_TRUE(legal.contains("Perwal Jambi No. 14 Tahun 2025"));
  EXPECT_GT(no_uid, 100u);
  EXPECT_GT(no_cover, 50u);
  EXPECT_GT(kampung, 200u);
  EXPECT_GT(apostrophes, 100u);
  EXPECT_EQ(r->cards.front().card_no, "KB-1571-0000001");

  roster::RosterOptions staff;
  staff.profile = roster::Profile::Staff;
  staff.nik_key = "synthetic-test-key";
  auto s = roster::parseRoster(csv, "synth.csv", staff);
  ASSERT_TRUE(s) << s.error()[0].format();
  EXPECT_EQ(s->cards.size(), 5000u);
}

std::map<std::string, std::string> rowsByCard(const std::string& csv) {
  std::map<std::string, std::string> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) out[line.substr(0, line.find(','))] += line + "\n";
  return out;
}

TEST(Synthetic, ChangePercentPerturbsAboutThatShareDeterministically) {
  SynthStats base_stats, changed_stats;
  std::string base = synth({5000, 7, 0, 0}, &base_stats);
  std::string changed = synth({5000, 7, 2.0, 11}, &changed_stats);
  EXPECT_EQ(changed, synth({5000, 7, 2.0, 11}));
  EXPECT_NE(changed, synth({5000, 7, 2.0, 12}));
  EXPECT_GT(changed_stats.changed, 50u);  // 2% of 5000 = 100
  EXPECT_LT(changed_stats.changed, 160u);
  auto a = rowsByCard(base), b = rowsByCard(changed);
  ASSERT_EQ(a.size(), b.size());
  std::size_t differing = 0;
  for (const auto& [card, rows] : a) differing += b.at(card) != rows ? 1 : 0;
  EXPECT_LE(differing, changed_stats.changed);
  EXPECT_GE(differing, changed_stats.changed / 2);
  EXPECT_TRUE(roster::parseRoster(changed, "changed.csv", roster::RosterOptions{}));
}

TEST(Synthetic, RejectsAChangePercentOutOfRange) {
  std::ostringstream out;
  auto r = writeSyntheticRoster(out, {10, 1, 101, 1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Usage);
}

}  // namespace
}  // namespace kb::synthetic
