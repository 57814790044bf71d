// SQLite discipline of the cache: checked binds, transactions that roll back on
// every early return, migrations that report what they cannot do, and a
// migrated file whose schema is exactly that of a fresh one.

#include "cache/sqlite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cache/errors.h"
#include "cache/publish.h"
#include "cache/store.h"
#include "fixtures.h"

namespace kb::cache {
namespace {

using namespace testing;

sql::Db openDb(const std::filesystem::path& p) {
  return sql::Db::open(p.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
}

std::int64_t count(sql::Db& db, const std::string& table) {
  return db.scalar("SELECT count(*) FROM " + table).value();
}

// Everything SQLite says about a schema: each object's definition, each table's
// columns (name, type, not-null, default, key position, hidden), each index's columns.
std::vector<std::string> schemaOf(sql::Db& db) {
  std::vector<std::string> out;
  std::vector<std::string> tables;
  auto objects = db.prepare(
      "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name");
  EXPECT_TRUE(objects);
  while (objects && objects->step().value_or(false)) {
    out.push_back(std::string(objects->text(0)) + " " + std::string(objects->text(1)) + " on " +
                  std::string(objects->text(2)) + ": " + std::string(objects->text(3)));
    if (objects->text(0) == "table") tables.emplace_back(objects->text(1));
  }
  for (const auto& t : tables) {
    for (const char* pragma : {"table_xinfo", "index_list"}) {
      auto rows = db.prepare("SELECT * FROM pragma_" + std::string(pragma) + "('" + t + "')");
      EXPECT_TRUE(rows);
      const int columns = rows ? sqlite3_column_count(rows->get()) : 0;
      while (rows && rows->step().value_or(false)) {
        std::string row = t + " " + pragma + ":";
        for (int c = 0; c < columns; ++c) row += " " + std::string(rows->text(c));
        out.push_back(row);
      }
    }
  }
  out.push_back("user_version " + std::to_string(db.scalar("PRAGMA user_version").value()));
  return out;
}

TEST(Sqlite, AFailedBindIsReportedAndNothingRuns) {
  TempDir dir;
  auto db = openDb(dir / "t.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER, b TEXT)"));
  auto ins = db.prepare("INSERT INTO t (a, b) VALUES (?1, ?2)");
  ASSERT_TRUE(ins);
  // Parameter 3 does not exist: the insert must not run with b as NULL.
  auto r = ins->bind(1, std::int64_t{7}).bind(3, std::string_view("x")).run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Internal);
  EXPECT_NE(r.error().message.find("parameter 3"), std::string::npos) << r.error().message;
  EXPECT_EQ(count(db, "t"), 0);
  // reset() forgets the failure with the bindings; a correct bind then runs.
  ins->reset();
  ASSERT_TRUE(ins->bind(1, std::int64_t{7}).bind(2, std::string_view("x")).run());
  EXPECT_EQ(count(db, "t"), 1);
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto db = openDb(dir / "t.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER)"));
  {
    auto txn = db.begin();
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)"));
  }  // an early return: rolled back
  EXPECT_EQ(count(db, "t"), 0);
  EXPECT_TRUE(sqlite3_get_autocommit(db.get()));
  {
    auto txn = db.begin();
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (2)"));
    ASSERT_TRUE(txn->commit());
    EXPECT_FALSE(txn->commit());  // once only
  }
  EXPECT_EQ(count(db, "t"), 1);
  // A transaction moved into a longer-lived holder is still one transaction.
  std::optional<sql::Transaction> held;
  {
    auto txn = db.begin();
    ASSERT_TRUE(txn);
    held.emplace(std::move(*txn));
  }
  ASSERT_TRUE(db.exec("INSERT INTO t VALUES (3)"));
  EXPECT_FALSE(sqlite3_get_autocommit(db.get()));
  held.reset();
  EXPECT_EQ(count(db, "t"), 1);
  // BEGIN inside a transaction is refused, not silently nested.
  auto outer = db.begin();
  ASSERT_TRUE(outer);
  EXPECT_FALSE(db.begin());
}

TEST(Migration, AMigratedFileHasExactlyTheSchemaOfAFreshOne) {
  TempDir dir;
  ASSERT_TRUE(migrateFile(dir / "fresh.db"));
  // The oldest schema, holding a row as that version wrote it, then migrated.
  ASSERT_TRUE(migrateFile(dir / "old.db", 1));
  {
    auto old = openDb(dir / "old.db");
    ASSERT_TRUE(old.exec(
        "INSERT INTO meta VALUES (1, 'm', 'snapshot', 1, 'kiosk', 0, 1, 1, 0, x'00', 0, 0)"));
  }
  ASSERT_TRUE(migrateFile(dir / "old.db"));
  auto fresh = openDb(dir / "fresh.db");
  auto migrated = openDb(dir / "old.db");
  const auto want = schemaOf(fresh);
  EXPECT_GT(want.size(), 10u);  // meta, buckets, records and their columns at least
  EXPECT_EQ(schemaOf(migrated), want);
}

TEST(Migration, ServedFileFromADeltaOnAnOldFileHasTheSchemaOfAFreshImport) {
  TempDir dir;
  auto keys = makeKeys();
  auto root = makeRoot(keys);
  PublishOptions o;
  o.profile = roster::Profile::Kiosk;
  o.serial = 1;
  o.signed_at = kNow - 3600;
  o.expires_at = kNow + kDay;
  o.out_dir = dir.path();
  auto s1 = publish(syntheticCards(20), root, {keys.snapshot}, o);
  o.serial = 2;
  o.base = s1->snapshot;
  o.out_dir = dir / "2";
  auto s2 = publish(syntheticCards(20, 1), root, {keys.snapshot}, o);
  ASSERT_TRUE(s1 && s2 && s2->delta);
  ASSERT_TRUE(importBundle(dir / "fresh.db", s2->snapshot, root, kNow));
  ASSERT_TRUE(importBundle(dir / "old.db", s1->snapshot, root, kNow));
  {  // what schema 1 wrote
    auto old = openDb(dir / "old.db");
    ASSERT_TRUE(old.exec("ALTER TABLE meta DROP COLUMN bundle_sha256; PRAGMA user_version = 1"));
  }
  ASSERT_TRUE(importBundle(dir / "old.db", *s2->delta, root, kNow));
  auto fresh = openDb(dir / "fresh.db");
  auto migrated = openDb(dir / "old.db");
  EXPECT_EQ(schemaOf(migrated), schemaOf(fresh));
}

TEST(Migration, ASchemaNewerThanThisBuildIsAnError) {
  TempDir dir;
  ASSERT_TRUE(migrateFile(dir / "m.db"));
  {
    auto db = openDb(dir / "m.db");
    ASSERT_TRUE(db.exec("PRAGMA user_version = " + std::to_string(schemaVersion() + 1)));
  }
  auto r = migrateFile(dir / "m.db");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, CacheErrc::Unverifiable);
  EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;
}

TEST(Migration, AFileClaimingSchema2WithoutItsColumnIsNotServed) {
  TempDir dir;
  auto keys = makeKeys();
  auto root = makeRoot(keys);
  PublishOptions o;
  o.profile = roster::Profile::Kiosk;
  o.serial = 1;
  o.signed_at = kNow - 3600;
  o.expires_at = kNow + kDay;
  o.out_dir = dir.path();
  auto s1 = publish(syntheticCards(5), root, {keys.snapshot}, o);
  ASSERT_TRUE(s1);
  ASSERT_TRUE(importBundle(dir / "c.db", s1->snapshot, root, kNow));
  ASSERT_TRUE(openVerified(dir / "c.db", root));
  {
    auto db = openDb(dir / "c.db");
    ASSERT_TRUE(db.exec("ALTER TABLE meta DROP COLUMN bundle_sha256"));  // still says 2
  }
  auto f = openVerified(dir / "c.db", root);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, CacheErrc::Unverifiable);
  EXPECT_NE(f.error().message.find("bundle_sha256"), std::string::npos) << f.error().message;
}

}  // namespace
}  // namespace kb::cache
