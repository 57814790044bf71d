// Console search: name keys, the query parser, and verified search over a real
// staff cache and its index.

#include "console/search.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "cache/errors.h"
#include "cache/publish.h"
#include "cache/record_codec.h"
#include "cache/sqlite.h"
#include "cache/store.h"
#include "common/files.h"
#include "console/name_key.h"
#include "console/query.h"
#include "console_fixture.h"
#include "roster/csv_reader.h"
#include "roster/nik_key.h"
#include "roster/roster.h"

namespace kb::console {
namespace {

using cache::testing::kNow;
using testing::buildStaffCache;
using testing::StaffCache;
using testing::testRoster;

TEST(NameKey, FoldsCaseDiacriticsAndApostrophes) {
  EXPECT_EQ(foldWords("Zoë"), foldWords("zoe"));
  EXPECT_EQ(foldWords("Nur'aini"), std::vector<std::string>{"nuraini"});
  EXPECT_EQ(foldWords("Nur\xE2\x80\x99"
                      "aini"),
            std::vector<std::string>{"nuraini"});                        // ’
  EXPECT_EQ(foldWords("Zoe\xCC\x88"), std::vector<std::string>{"zoe"});  // e + combining diaeresis
  EXPECT_EQ(foldWords("  M. Rizki-Fadillah "),
            (std::vector<std::string>{"m", "rizki", "fadillah"}));
  EXPECT_EQ(foldWords("STRAßE Ångström"), (std::vector<std::string>{"strasse", "angstrom"}));
}

TEST(NameKey, SpellingVariantsShareAKey) {
  for (auto [a, b] : {std::pair{"muhammad", "muhamad"},
                      {"mohammad", "muhamad"},
                      {"mochamad", "muhamad"},
                      {"rizky", "rizki"},
                      {"rizqi", "rizki"},
                      {"fadillah", "fadila"},
                      {"syaiful", "saiful"},
                      {"mukhlis", "muklis"},
                      {"ramadhan", "ramadan"},
                      {"yusuf", "jusuf"},
                      {"hassan", "hasan"}}) {
    if (std::string(a) == "yusuf") {
      EXPECT_NE(variantKey(a), variantKey(b)) << "old-spelling j is not folded into y";
      continue;
    }
    EXPECT_EQ(variantKey(a), variantKey(b)) << a << " vs " << b;
  }
  EXPECT_NE(variantKey("siti"), variantKey("sita"));
}

TEST(NameKey, MatchesOrderFreePrefixesAndJoinedWords) {
  auto terms = indexTerms("SITI NURHALIZA");
  EXPECT_TRUE(matches(queryAlternatives("siti nur"), terms));
  EXPECT_TRUE(matches(queryAlternatives("Nurhaliza Siti"), terms));
  EXPECT_TRUE(matches(queryAlternatives("sitinurhaliza"), terms));
  EXPECT_FALSE(matches(queryAlternatives("siti aminah"), terms));
  EXPECT_TRUE(matches(queryAlternatives("Nur Aini"), indexTerms("NUR'AINI")));
  EXPECT_TRUE(matches(queryAlternatives("Nuraini"), indexTerms("Nur Aini")));
  EXPECT_FALSE(matches(queryAlternatives(""), terms));
}

TEST(NameKey, Utf8Validation) {
  EXPECT_TRUE(validUtf8("Zoë"));
  EXPECT_FALSE(validUtf8("\xC3"));          // cut short
  EXPECT_FALSE(validUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(validUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(validUtf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(validUtf8("\xFF"));
}

TEST(Query, AcceptsEachKey) {
  auto c = parseSearchQuery("card_no=kb-test-0001");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->kind, QueryKind::CardNo);
  EXPECT_EQ(c->card_no, "KB-TEST-0001");
  auto n = parseSearchQuery("nik=1571010101900001");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, QueryKind::Nik);
  auto m = parseSearchQuery("name=Nur%27aini+Syahputri&kelurahan=Paal%20Lima&rt=12");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->name, "Nur'aini Syahputri");
  EXPECT_EQ(m->kelurahan, "Paal Lima");
  EXPECT_EQ(m->rt, "012");
}

TEST(Query, RejectsBadInputWithAReason) {
  const std::string big(10 * 1024, 'a');
  for (const std::string& q : {std::string(""),
                               std::string("name="),
                               std::string("name=%22siti%22"),
                               std::string("name=siti*"),
                               std::string("name=NEAR(siti"),
                               std::string("name=siti%00"),
                               std::string("name=%C3"),
                               std::string("name=%FF%FE"),
                               "name=" + big,
                               std::string("name=siti&name=nur"),
                               std::string("card_no=X&nik=1571010101900001"),
                               std::string("nik=157101010190000"),
                               std::string("nik=157101010190000a"),
                               std::string("card_no=KB%2F1"),
                               std::string("card_no=ab"),
                               std::string("rt=3"),
                               std::string("name=siti&rt=0"),
                               std::string("name=siti&rt=1000"),
                               std::string("name=siti&rt=abc"),
                               std::string("name=siti&x=1"),
                               std::string("name=%zz"),
                               std::string("name=%4"),
                               std::string("name=--.."),
                               std::string("name=a+b+c+d+e+f+g+h+i"),
                               std::string("name=siti&kelurahan=%22x"),
                               std::string("name=siti;DROP+TABLE"),
                               std::string("name=12345")}) {
    auto r = parseSearchQuery(q);
    EXPECT_FALSE(r) << "accepted: " << q.substr(0, 80);
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::Malformed);
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    buildStaffCache(sc_, testRoster(300));
    searcher_.emplace(*sc_.cache, *sc_.root, sc_.index(), testing::kNikKey);
    ASSERT_TRUE(searcher_->prepare(kNow));
  }
  std::vector<std::string> cards(const std::string& qs) {
    auto q = parseSearchQuery(qs);
    EXPECT_TRUE(q) << qs << ": " << q.error().message;
    if (!q) return {};
    auto a = searcher_->search(*q, kNow);
    EXPECT_TRUE(a) << qs << ": " << a.error().message;
    if (!a) return {};
    std::vector<std::string> out;
    for (const auto& r : a->results) out.push_back(r.card_no);
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& c) {
    return std::find(v.begin(), v.end(), c) != v.end();
  }
  StaffCache sc_;
  std::optional<Searcher> searcher_;
};

TEST_F(SearchTest, ByCardNumber) {
  EXPECT_EQ(cards("card_no=KB-TEST-0001"), std::vector<std::string>{"KB-TEST-0001"});
  EXPECT_TRUE(cards("card_no=KB-NONE-0001").empty());
}

TEST_F(SearchTest, ByNikReturnsOnlyLastFour) {
  auto q = parseSearchQuery("nik=1571010101900004");
  ASSERT_TRUE(q);
  auto a = searcher_->search(*q, kNow);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->results.size(), 1u);
  EXPECT_EQ(a->results[0].card_no, "KB-TEST-0004");
  auto j = toJson(*a).dump();
  EXPECT_NE(j.find("\"nik_last4\":\"0004\""), std::string::npos);
  EXPECT_EQ(j.find("1571010101900004"), std::string::npos);
  EXPECT_TRUE(cards("nik=1571999999999999").empty());
}

TEST_F(SearchTest, ByNameTheWayItIsSaidOnThePhone) {
  EXPECT_TRUE(has(cards("name=siti+nurhaliza"), "KB-TEST-0001"));
  EXPECT_TRUE(has(cards("name=Nurhaliza+Siti"), "KB-TEST-0001"));      // order
  EXPECT_TRUE(has(cards("name=Siti+Nur"), "KB-TEST-0001"));            // prefix
  EXPECT_TRUE(has(cards("name=Zoe+Anggraini"), "KB-TEST-0002"));       // diacritics
  EXPECT_TRUE(has(cards("name=ZO%C3%8B"), "KB-TEST-0002"));            // ZOË
  EXPECT_TRUE(has(cards("name=Nuraini"), "KB-TEST-0003"));             // apostrophe
  EXPECT_TRUE(has(cards("name=Nur+Aini+Syahputri"), "KB-TEST-0003"));  // split word
  EXPECT_TRUE(has(cards("name=Muhamad+Rizki"), "KB-TEST-0004"));       // variants
  EXPECT_TRUE(has(cards("name=Mohammad+Rizqy"), "KB-TEST-0004"));
  EXPECT_TRUE(has(cards("name=rizki+fadila"), "KB-TEST-0005"));
  EXPECT_TRUE(has(cards("name=Ahmad+Syarai"), "KB-TEST-0006"));
  EXPECT_FALSE(has(cards("name=siti+aminah+zubaidah"), "KB-TEST-0001"));
}

TEST_F(SearchTest, KelurahanAndRtNarrow) {
  auto both = cards("name=Muhammad+Rizky&kelurahan=telanaipura");
  EXPECT_TRUE(has(both, "KB-TEST-0004"));
  EXPECT_TRUE(has(both, "KB-TEST-0005"));
  auto rt7 = cards("name=Muhammad+Rizky&kelurahan=telanaipura&rt=7");
  EXPECT_TRUE(has(rt7, "KB-TEST-0004"));
  EXPECT_FALSE(has(rt7, "KB-TEST-0005"));
  EXPECT_FALSE(has(cards("name=siti+nurhaliza&kelurahan=Paal+Lima"), "KB-TEST-0001"));
  EXPECT_TRUE(has(cards("name=siti+nurhaliza&kelurahan=simpang+iv"), "KB-TEST-0001"));
}

// A kelurahan narrows through its tagged name terms (one short posting list):
// typed in part it still finds every kelurahan it fits, the last name word
// may still be a prefix, and one that fits none here finds nobody.
TEST_F(SearchTest, KelurahanTypedInPartOrAsAPrefix) {
  EXPECT_TRUE(has(cards("name=zoe+anggraini&kelurahan=paal"), "KB-TEST-0002"));
  EXPECT_TRUE(has(cards("name=zoe+angg&kelurahan=Paal+Lima"), "KB-TEST-0002"));
  EXPECT_TRUE(has(cards("name=Nuraini&kelurahan=PAAL+LIMA&rt=12"), "KB-TEST-0003"));
  EXPECT_TRUE(has(cards("name=siti+nurhaliza&kelurahan=sipin"), "KB-TEST-0001"));
  EXPECT_TRUE(cards("name=siti+nurhaliza&kelurahan=Nowhere").empty());
  // "s" fits more kelurahan than are looked up by tag: the kelurahan words
  // narrow instead, with the same answer.
  EXPECT_TRUE(has(cards("name=siti+nurhaliza&kelurahan=s"), "KB-TEST-0001"));
  EXPECT_FALSE(has(cards("name=siti+nurhaliza&kelurahan=t"), "KB-TEST-0001"));
}

TEST_F(SearchTest, ManyMatchesAreTruncated) {
  auto q = parseSearchQuery("name=a");
  ASSERT_TRUE(q);
  auto a = searcher_->search(*q, kNow);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->results.size(), kMaxResults);
  EXPECT_TRUE(a->truncated);
}

TEST_F(SearchTest, AnEditedCacheRowIsNeverAnswered) {
  {
    auto db = cache::sql::Db::open(sc_.db().string(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        db->exec("UPDATE records SET body = replace(body, '\"revoked\"', '\"active\"') "
                 "WHERE card_no = 'KB-TEST-0005'"));
  }
  auto q = parseSearchQuery("name=rizki+fadila");
  ASSERT_TRUE(q);
  auto a = searcher_->search(*q, kNow);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, CacheErrc::Unverifiable);
}

TEST_F(SearchTest, AnEditedIndexCannotPutSomeoneElseInTheAnswer) {
  {
    // Point the NIK hash of card 4 at card 1, and give card 1 another name's keys.
    auto db = cache::sql::Db::open(sc_.index().string(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        db->exec("UPDATE people SET card_no = 'KB-TEST-0001' WHERE card_no = 'KB-TEST-0004'"));
  }
  Searcher fresh(*sc_.cache, *sc_.root, sc_.index(), testing::kNikKey);
  ASSERT_TRUE(fresh.prepare(kNow));
  auto q = parseSearchQuery("nik=1571010101900004");
  ASSERT_TRUE(q);
  auto a = fresh.search(*q, kNow);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->results.empty()) << "the re-check against the cache drops the planted row";
  auto n = parseSearchQuery("name=muhammad+rizky&rt=007");
  ASSERT_TRUE(n);
  auto b = fresh.search(*n, kNow);
  ASSERT_TRUE(b);
  for (const auto& r : b->results) EXPECT_NE(r.card_no, "KB-TEST-0001");
}

TEST_F(SearchTest, TheIndexIsRebuiltForANewState) {
  auto before = std::filesystem::last_write_time(sc_.index());
  // Same content: opening again reuses the file.
  Searcher again(*sc_.cache, *sc_.root, sc_.index(), testing::kNikKey);
  ASSERT_TRUE(again.prepare(kNow));
  EXPECT_EQ(std::filesystem::last_write_time(sc_.index()), before);
  // A different format/content digest in its meta row: rebuilt.
  {
    auto db = cache::sql::Db::open(sc_.index().string(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("UPDATE meta SET content_digest = 'x'"));
  }
  Searcher rebuilt(*sc_.cache, *sc_.root, sc_.index(), testing::kNikKey);
  ASSERT_TRUE(rebuilt.prepare(kNow));
  auto q = parseSearchQuery("name=siti+nurhaliza");
  ASSERT_TRUE(q);
  auto a = rebuilt.search(*q, kNow);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->results.empty());
}

// Privacy: the staff cache holds no plain NIK and no birth date, only keyed
// hashes. Every record is read back through the cache and its canonical body
// (what the signed bundle and the cache store, before any compression) is
// searched for every NIK and birth date of the roster; a date the caller
// states is checked against the hash instead.
TEST_F(SearchTest, StaffRecordsHoldNoPlainNikOrBirthDate) {
  const std::string csv = testRoster(300);
  roster::CsvReader reader(csv);
  std::vector<std::pair<std::string, std::string>> people;  // card_no, birth date
  std::vector<std::string> secrets;
  for (bool header = true;;) {
    auto rec = reader.next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    const auto& f = (*rec)->fields;
    ASSERT_GE(f.size(), 5u);
    if (std::exchange(header, false)) {
      ASSERT_EQ(f[2], "nik");
      ASSERT_EQ(f[4], "birth_date");
      continue;
    }
    people.emplace_back(f[0], f[4]);
    secrets.emplace_back(f[2]);
    secrets.emplace_back(f[4]);
  }
  ASSERT_GT(people.size(), 300u);
  std::size_t checked = 0;
  for (const auto& [card_no, birth] : people) {
    auto v = sc_.cache->lookup(card_no, kNow);
    ASSERT_TRUE(v.card) << card_no;
    const std::string body = cache::encodeRecord(*v.card);
    for (const auto& s : secrets) ASSERT_EQ(body.find(s), std::string::npos) << card_no;
    EXPECT_EQ(v.card->birth_hash,
              roster::birthDateHash(roster::NikKey(testing::kNikKey), card_no, birth));
    EXPECT_EQ(searcher_->birthHash(card_no, birth), v.card->birth_hash);
    ++checked;
  }
  EXPECT_GT(checked, 300u);
  // Bound to the card: the same date of two holders hashes differently.
  EXPECT_NE(roster::birthDateHash(roster::NikKey(testing::kNikKey), "KB-TEST-0001", "1990-01-01"),
            roster::birthDateHash(roster::NikKey(testing::kNikKey), "KB-TEST-0002", "1990-01-01"));
  // And the raw cache file (whatever its encoding) has none of them either.
  auto raw = readFile(sc_.db(), 1 << 30);
  ASSERT_TRUE(raw);
  ASSERT_FALSE(raw->empty());
  for (const auto& s : secrets) ASSERT_EQ(raw->find(s), std::string::npos) << s;
}

TEST(RecordCodec, AStaffRecordWithAPlainBirthDateIsRefused) {
  auto r = cache::decodeRecord(
      R"({"birth_date":"1990-01-01","card_no":"KB-TEST-0001","category":"x","holder":"A",)"
      R"("kecamatan":"K","kelurahan":"L","rt":"001","status":"active"})",
      roster::Profile::Staff);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("birth_date"), std::string::npos) << r.error().message;
}

// After an import the new index is built on a thread of its own, off the
// request path; searches keep answering from the old index meanwhile (each hit
// re-checked against the new cache), and the new person is found once it is in.
TEST_F(SearchTest, AnImportRebuildsTheIndexInTheBackground) {
  const auto gen = searcher_->indexGeneration();
  EXPECT_FALSE(searcher_->maintain(kNow)) << "nothing to build for the state it was built from";
  std::string csv = testRoster(300);
  csv +=
      testing::rosterRow("KB-TEST-0099", "1571010101900099", "WAYAN SUDARSANA", "Paal Lima", "012");
  roster::RosterOptions ro;
  ro.profile = roster::Profile::Staff;
  ro.nik_key = testing::kNikKey;
  auto parsed = roster::parseRoster(csv, "test.csv", ro);
  ASSERT_TRUE(parsed);
  cache::PublishOptions po;
  po.profile = roster::Profile::Staff;
  po.serial = 2;
  po.signed_at = kNow - 60;
  po.expires_at = kNow + 30 * cache::testing::kDay;
  po.out_dir = sc_.dir / "pub2";
  auto pub = cache::publish(std::move(parsed->cards), *sc_.root, {sc_.keys.snapshot}, po);
  ASSERT_TRUE(pub) << pub.error().message;
  cache::ImportOptions io;
  io.profile = roster::Profile::Staff;
  ASSERT_TRUE(cache::importBundle(sc_.db(), pub->snapshot, *sc_.root, kNow, io));
  // The search that notices the import answers at once (old index), starting the build.
  EXPECT_TRUE(has(cards("name=siti+nurhaliza"), "KB-TEST-0001"));
  for (int i = 0; i < 3000 && searcher_->indexGeneration() == gen; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(searcher_->indexGeneration(), gen + 1) << "the new index was not installed";
  EXPECT_FALSE(searcher_->maintain(kNow));
  EXPECT_EQ(cards("name=wayan+sudarsana"), std::vector<std::string>{"KB-TEST-0099"});
  EXPECT_EQ(cards("nik=1571010101900099"), std::vector<std::string>{"KB-TEST-0099"});
}

TEST(SearchIndexExpr, EveryTermIsQuotedAndSafe) {
  auto e = ftsExpression({{"siti", "nur"}, {"sitinur"}}, {"paal"}, "003", true);
  EXPECT_EQ(e,
            "terms : ((\"siti\" AND \"nur\"*) OR (\"sitinur\"*)) AND kel : (\"paal\"*) AND "
            "rt : \"003\"");
  EXPECT_EQ(ftsExpression({{"a\"b"}}, {}, "", false), "");
}

}  // namespace
}  // namespace kb::console
