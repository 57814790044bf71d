#include "cache/sqlite.h"

#include <cerrno>
#include <utility>

#include "cache/errors.h"

namespace kb::cache::sql {
namespace {
// The code of a failed call on `db` whose result code was `rc`: a full disk
// (SQLITE_FULL, or a write refused with ENOSPC, EDQUOT or EFBIG: a file size
// limit) is DISK_FULL, a damaged file UNVERIFIABLE, anything else IO.
std::error_code codeOf(sqlite3* db, int rc) {
  const int base = rc & 0xff;
  if (base == SQLITE_CORRUPT || base == SQLITE_NOTADB) return CacheErrc::Unverifiable;
  const int err = db ? sqlite3_system_errno(db) : 0;
  if (base == SQLITE_FULL ||
      (base == SQLITE_IOERR && (err == ENOSPC || err == EDQUOT || err == EFBIG)))
    return Errc::DiskFull;
  return Errc::Io;
}

Error stmtError(sqlite3_stmt* s, int rc) {
  sqlite3* db = sqlite3_db_handle(s);
  return Error{codeOf(db, rc),
               std::string("sqlite: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
}
}  // namespace

Stmt& Stmt::checkBind(int rc, int i) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = i;
  }
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  return checkBind(sqlite3_bind_int64(s_.get(), i, v), i);
}

Stmt& Stmt::bind(int i, std::string_view text) {
  return checkBind(
      sqlite3_bind_text64(s_.get(), i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), i);
}

Stmt& Stmt::bindStatic(int i, std::string_view text) {
  return checkBind(
      sqlite3_bind_text64(s_.get(), i, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8), i);
}

Stmt& Stmt::bindBlob(int i, std::string_view bytes) {
  return checkBind(sqlite3_bind_blob64(s_.get(), i, bytes.data(), bytes.size(), SQLITE_TRANSIENT),
                   i);
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) {
    // A value that did not bind must not run as NULL: report it, run nothing.
    const int base = bind_rc_ & 0xff;
    return fail(base == SQLITE_TOOBIG  ? Errc::TooLarge
                : base == SQLITE_NOMEM ? Errc::Io
                                       : Errc::Internal,
                "sqlite: cannot bind parameter " + std::to_string(bind_index_) + ": " +
                    sqlite3_errstr(bind_rc_));
  }
  int rc = sqlite3_step(s_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = stmtError(s_.get(), rc);
  sqlite3_reset(s_.get());
  return std::unexpected(e);
}

Result<void> Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return std::unexpected(r.error());
    if (!*r) break;
  }
  reset();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(s_.get());
  sqlite3_clear_bindings(s_.get());
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  // Only if still inside the transaction: a failed statement may already have ended it.
  if (db_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<void> Transaction::commit() {
  if (!db_) return fail(Errc::Internal, "sqlite: commit without an open transaction");
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail(codeOf(db_, sqlite3_extended_errcode(db_)),
                std::string("commit: sqlite: ") + sqlite3_errmsg(db_));
  }
  db_ = nullptr;
  return {};
}

std::string_view Stmt::text(int col) const {
  auto* p = sqlite3_column_text(s_.get(), col);
  int n = sqlite3_column_bytes(s_.get(), col);
  return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string_view();
}

std::string_view Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(s_.get(), col);
  int n = sqlite3_column_bytes(s_.get(), col);
  return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string_view();
}

Result<Db> Db::openWith(const std::string& path, int flags, const char* vfs) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  DbPtr db(raw);
  if (rc != SQLITE_OK)
    return fail(Errc::Io, path + ": sqlite: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(raw, 1);
  return Db(std::move(db));
}

Result<Db> Db::open(const std::string& path, int flags) {
  return openWith(path, flags, nullptr);
}

Result<Db> Db::openReplacedByRename(const std::string& path) {
  return openWith(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, "unix-none");
}

Error Db::error(std::string_view what) const {
  return Error{codeOf(db_.get(), sqlite3_extended_errcode(db_.get())),
               std::string(what) + ": sqlite: " + sqlite3_errmsg(db_.get())};
}

Result<void> Db::exec(const std::string& sql) {
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return std::unexpected(error("exec"));
  return {};
}

Result<Transaction> Db::begin() {
  if (auto r = exec("BEGIN"); !r) return std::unexpected(r.error());
  return Transaction(db_.get());
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    return std::unexpected(error("prepare"));
  return Stmt(s);
}

Result<std::int64_t> Db::scalar(const std::string& sql) {
  auto s = prepare(sql);
  if (!s) return std::unexpected(s.error());
  auto row = s->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(CacheErrc::Unverifiable, "no row for: " + sql);
  return s->integer(0);
}

}  // namespace kb::cache::sql
