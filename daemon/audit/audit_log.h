#pragma once
/// The console's tamper-evident audit log (docs/formats.md, "Audit log"):
/// STATE_DIR/audit.log, one JSON object per line, append-only and hash-chained
/// (each line's `prev` is the previous line's `hash`, `hash` is SHA-256 of the
/// line up to the hash field). Every N lines a checkpoint line signed with the
/// node key; each checkpoint also goes to the journal, so a log cut after it is
/// visible off the node. append() returns only after the line is on disk.
///
/// Group commit: appends from concurrent requests add their lines, under one
/// lock and so in chain order, to a tail not yet in the file, and then wait for
/// one shared sync: the first waiter writes the whole tail with one write(2)
/// and runs fdatasync, the others sleep until it covers theirs. Only that one
/// thread writes, so the file order is the chain order. A line's append
/// returns only after a sync that wrote it; a failed write or sync fails every
/// append not yet acknowledged and every later one. A checkpoint reaches the
/// journal only after it is on disk.
///
/// Without a thread per waiter: appendPending() adds the line and returns;
/// whenDurable() hands a callback to the log's sync thread, which writes and
/// syncs back to back (at most one sync per LogOptions::min_sync_interval)
/// whatever has been added meanwhile and calls each callback once its line is
/// covered (the console's request coroutines wait this way, so a request
/// waiting for the disk holds no thread).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"
#include "crypto/crypto.h"

namespace kb::audit {

struct Entry {
  std::string operator_cn;                          ///< the client certificate's CN
  std::string action;                               ///< search, view, audit_view, rate_limited, ...
  nlohmann::json query = nlohmann::json::object();  ///< NIK only as keyed hash + last 4
  std::vector<std::string> results;                 ///< card numbers answered
};

struct LogOptions {
  std::uint32_t checkpoint_every = 100;  ///< a signed checkpoint after this many entries
  /// Receives "checkpoint seq=N hash=HEX" lines for the journal (and other notices).
  std::function<void(std::string_view)> journal;
  /// Makes the written lines durable: fdatasync(fd) by default; tests replace it
  /// to hold a sync open or make it fail (return -1 with errno set).
  std::function<int(int fd)> sync;
  /// The sync thread starts one sync at most this often. Under load the lines
  /// written meanwhile share it (an fdatasync costs far more CPU than the
  /// lines it covers: about 0.2 ms of a core on the benchmark's VM); a request
  /// on a quiet node does not wait, since the last sync started longer ago.
  std::chrono::microseconds min_sync_interval{1000};
};

struct LogStats {
  std::uint64_t lines = 0;  ///< lines appended since open (entries and checkpoints)
  std::uint64_t syncs = 0;  ///< fdatasync calls since open
};

class AuditLog {
 public:
  /// Opens (creating if needed) the log and continues its chain. An incomplete
  /// last line (a crash mid-write, never acknowledged) is cut off and reported
  /// to the journal. IO if it cannot be opened; MALFORMED if its last complete
  /// line is not an audit line.
  static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& path,
                                                crypto::SigningKey node_key,
                                                LogOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Appends and fsyncs one line (plus a checkpoint when due); returns its seq.
  /// After any write error the log refuses every later append (IO) until reopened.
  Result<std::uint64_t> append(const Entry& entry, UnixSeconds now);
  /// Adds the line (plus a checkpoint when due) like append() but returns at
  /// once with its seq: the line is not in the file yet, so nothing may act on it
  /// (send an answer) before whenDurable(seq) reports it durable.
  Result<std::uint64_t> appendPending(const Entry& entry, UnixSeconds now);
  using DurableCallback = std::move_only_function<void(Result<void>)>;
  /// Calls `done` once every line up to `seq` is on disk, or with the error
  /// (IO) when it cannot be. Called on the log's sync thread (or here and now
  /// when `seq` is already durable or the log is broken): keep it short, e.g.
  /// post to an executor.
  void whenDurable(std::uint64_t seq, DurableCallback done);
  /// Serves every pending whenDurable() and stops the sync thread; call it
  /// before whatever the callbacks use goes away (the destructor calls it too).
  void finishPending();
  /// Appends a signed checkpoint now (e.g. at shutdown).
  Result<std::uint64_t> checkpoint(UnixSeconds now);

  /// The last `n` lines, oldest first (the supervisor's view), after making
  /// every line appended so far durable.
  Result<std::vector<std::string>> tail(std::size_t n);
  std::uint64_t lastSeq() const;
  LogStats stats() const;

 private:
  AuditLog() = default;
  /// Adds a line to the unwritten tail (lock held); the next sync writes it out.
  Result<std::uint64_t> write(std::string line_without_hash, UnixSeconds now);
  /// write(2) of lines to the end of the file (by the one syncing thread).
  Result<void> writeOut(std::string_view lines);
  /// The entry's line between its seq and its prev (built without the lock).
  static std::string entryFields(const Entry& entry, UnixSeconds now);
  /// Writes the entry and, when due, a checkpoint (lock held); the entry's seq
  /// and the last seq written.
  Result<std::pair<std::uint64_t, std::uint64_t>> writeEntry(std::string_view fields,
                                                             UnixSeconds now);
  void syncLoop();
  Result<std::uint64_t> checkpointLocked(UnixSeconds now);
  /// Waits (lock held, released while syncing or sleeping) until `seq` is durable.
  Result<void> durable(std::unique_lock<std::mutex>& lock, std::uint64_t seq);

  struct State;
  std::unique_ptr<State> s_;
};

/// The message a checkpoint signs.
std::string checkpointMessage(std::uint64_t seq, std::string_view prev_hash_hex);

/// A checkpoint seen off the node (in the journal): its seq and line hash.
struct ExternalCheckpoint {
  std::uint64_t seq = 0;
  std::string hash;
};
/// Every "checkpoint seq=N hash=HEX" in a journal export, in order.
std::vector<ExternalCheckpoint> parseJournal(std::string_view journal_text);

struct VerifyReport {
  std::uint64_t lines = 0;        ///< complete lines checked
  std::uint64_t checkpoints = 0;  ///< checkpoint lines (signatures checked if a key was given)
  bool torn_tail = false;         ///< the file ends in an incomplete line (ignored)
};

/// Checks the whole chain. On failure the error (MALFORMED) message is
/// "line N: what is wrong", N the first line that does not fit: edited,
/// inserted, deleted before it, reordered, or missing (a cut tail) when an
/// external checkpoint names a line the log no longer has.
Result<VerifyReport> verify(const std::filesystem::path& log,
                            const std::optional<crypto::PublicKey>& node_key,
                            const std::vector<ExternalCheckpoint>& external = {});

/// The node's audit key: read from `key_path`, or generated there (mode 0600)
/// with its public half beside it (KEY.pub, PEM) when it does not exist.
Result<crypto::SigningKey> loadOrCreateNodeKey(const std::filesystem::path& key_path);

}  // namespace kb::audit
