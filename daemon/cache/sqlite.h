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

  // Binds chain; the first one that fails (no such parameter, value too big) is
  // remembered and reported by the next step() or run(), which then runs nothing.
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view text);       ///< TEXT
  Stmt& bindBlob(int i, std::string_view bytes);  ///< BLOB
  /// TEXT not copied: `text` must stay valid until the next run() or reset().
  Stmt& bindStatic(int i, std::string_view text);
  /// SQLITE_ROW → true, SQLITE_DONE → false, otherwise an error.
  Result<bool> step();
  Result<void> run();  ///< step to completion, then reset
  void reset();        ///< also clears the bindings and a remembered bind failure

  std::int64_t integer(int col) const { return sqlite3_column_int64(s_.get(), col); }
  std::string_view text(int col) const;
  std::string_view blob(int col) const;
  sqlite3_stmt* get() const { return s_.get(); }

 private:
  Stmt& checkBind(int rc, int i);

  std::unique_ptr<sqlite3_stmt, StmtFinalizer> s_;
  int bind_rc_ = SQLITE_OK;  ///< the first failed bind's result code
  int bind_index_ = 0;       ///< and its parameter
};

/// One open transaction: BEGIN when made (Db::begin), COMMIT by commit(), and
/// ROLLBACK when it goes out of scope uncommitted, on every early return.
/// Must not outlive its Db.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  /// On failure the transaction is still open and rolled back by the destructor.
  Result<void> commit();

 private:
  friend class Db;
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;  ///< null once committed (or moved from)
};

class Db {
 public:
  /// `flags` as for sqlite3_open_v2; IO if the file cannot be opened.
  static Result<Db> open(const std::string& path, int flags);
  /// Read-only, without POSIX locks (SQLite's "unix-none" VFS), for a file
  /// that is replaced by rename and never written in place (the served cache,
  /// the console's search index): the locks would guard against a writer that
  /// does not exist, at four fcntl calls and a process-wide mutex per read.
  /// Each read still checks the file's change counter, so an edit made in
  /// place through SQLite still empties the connection's page cache.
  static Result<Db> openReplacedByRename(const std::string& path);

  Result<void> exec(const std::string& sql);
  Result<Transaction> begin();  ///< BEGIN; see Transaction
  Result<Stmt> prepare(std::string_view sql);
  Result<std::int64_t> scalar(const std::string& sql);  ///< first column of the first row
  Error error(std::string_view what) const;
  sqlite3* get() const { return db_.get(); }

 private:
  explicit Db(DbPtr db) : db_(std::move(db)) {}
  static Result<Db> openWith(const std::string& path, int flags, const char* vfs);
  DbPtr db_;
};

}  // namespace kb::cache::sql
