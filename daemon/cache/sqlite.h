#pragma once
// Thin RAII wrapper over the SQLite C API for the cache (internal header).
// Handles are owned by unique_ptr with deleters; errors come back as kb::Error.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::cache::sql {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view text);       ///< TEXT
  Stmt& bindBlob(int i, std::string_view bytes);  ///< BLOB
  /// SQLITE_ROW → true, SQLITE_DONE → false, otherwise an error.
  Result<bool> step();
  Result<void> run();  ///< step to completion, then reset
  void reset();

  std::int64_t integer(int col) const { return sqlite3_column_int64(s_.get(), col); }
  std::string_view text(int col) const;
  std::string_view blob(int col) const;
  sqlite3_stmt* get() const { return s_.get(); }

 private:
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> s_;
};

class Db {
 public:
  /// `flags` as for sqlite3_open_v2; IO if the file cannot be opened.
  static Result<Db> open(const std::string& path, int flags);

  Result<void> exec(const std::string& sql);
  Result<Stmt> prepare(std::string_view sql);
  Result<std::int64_t> scalar(const std::string& sql);  ///< first column of the first row
  Error error(std::string_view what) const;
  sqlite3* get() const { return db_.get(); }

 private:
  explicit Db(DbPtr db) : db_(std::move(db)) {}
  DbPtr db_;
};

}  // namespace kb::cache::sql
