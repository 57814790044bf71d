#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "common/encoding.h"
#include "common/files.h"

namespace kb::audit {
namespace {

constexpr std::string_view kHashField = ",\"hash\":\"";
const std::string kGenesis(64, '0');

std::string jsonString(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool isHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A complete line split into the hashed body and its stated hash; nullopt if
// the line does not end in the hash field.
struct Split {
  std::string_view body;
  std::string_view hash;
};
std::optional<Split> split(std::string_view line) {
  auto pos = line.rfind(kHashField);
  if (pos == std::string_view::npos) return std::nullopt;
  if (line.size() != pos + kHashField.size() + 64 + 2 || !line.ends_with("\"}"))
    return std::nullopt;
  auto hash = line.substr(pos + kHashField.size(), 64);
  if (!isHex64(hash)) return std::nullopt;
  return Split{line.substr(0, pos), hash};
}

struct Parsed {
  std::uint64_t seq = 0;
  std::string action, prev, hash, key_id, sig;
  bool hash_ok = false;
};
std::optional<Parsed> parseLine(std::string_view line) {
  auto sp = split(line);
  if (!sp) return std::nullopt;
  auto j = nlohmann::json::parse(std::string(sp->body) + "}", nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Parsed p;
  auto seq = j.find("seq");
  auto prev = j.find("prev");
  auto action = j.find("action");
  if (seq == j.end() || !seq->is_number_unsigned() || prev == j.end() || !prev->is_string() ||
      action == j.end() || !action->is_string())
    return std::nullopt;
  p.seq = seq->get<std::uint64_t>();
  p.prev = prev->get<std::string>();
  p.action = action->get<std::string>();
  if (!isHex64(p.prev)) return std::nullopt;
  if (auto k = j.find("key_id"); k != j.end() && k->is_string()) p.key_id = k->get<std::string>();
  if (auto s = j.find("sig"); s != j.end() && s->is_string()) p.sig = s->get<std::string>();
  p.hash = std::string(sp->hash);
  p.hash_ok = hexEncode(crypto::sha256(sp->body)) == p.hash;
  return p;
}

std::string errnoText() {
  return std::strerror(errno);
}

}  // namespace

std::string checkpointMessage(std::uint64_t seq, std::string_view prev_hash_hex) {
  return "kartu-bahagia audit checkpoint\n" + std::to_string(seq) + "\n" +
         std::string(prev_hash_hex);
}

struct AuditLog::State {
  std::filesystem::path path;
  int fd = -1;
  crypto::SigningKey key;
  LogOptions options;
  mutable std::mutex mu;
  std::condition_variable synced_cv;
  std::uint64_t seq = 0;  // of the last line written
  std::string head = kGenesis;
  std::uint64_t since_checkpoint = 0;
  bool broken = false;
  std::string broken_reason;
  std::uint64_t synced = 0;  // every line up to this seq is on disk
  bool syncing = false;      // a thread is writing and syncing the lines up to some seq
  std::string unwritten;     // lines after the file's end, in chain order
  std::chrono::steady_clock::time_point last_sync_start;
  // Checkpoint notices held back until their line is durable: (seq, message).
  std::vector<std::pair<std::uint64_t, std::string>> pending_journal;
  LogStats stats;
  // whenDurable() callbacks for the sync thread, which runs while there are any.
  struct Waiter {
    std::uint64_t seq;
    DurableCallback done;
  };
  std::vector<Waiter> waiters;
  std::condition_variable waiters_cv;
  std::thread syncer;
  bool stopping = false;
  explicit State(crypto::SigningKey k) : key(std::move(k)) {}
  ~State() {
    if (fd >= 0) ::close(fd);
  }
};

AuditLog::~AuditLog() {
  if (s_) finishPending();
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& path,
                                                 crypto::SigningKey node_key, LogOptions options) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->s_ = std::make_unique<State>(std::move(node_key));
  State& s = *log->s_;
  s.path = path;
  s.options = std::move(options);
  if (s.options.checkpoint_every == 0) s.options.checkpoint_every = 1;
  s.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (s.fd < 0) return fail(Errc::Io, path.string() + ": cannot open: " + errnoText());
  struct stat st {};
  if (::fstat(s.fd, &st) != 0) return fail(Errc::Io, path.string() + ": " + errnoText());
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) return log;
  // Find the last complete line in the final 64 KiB (lines are far shorter).
  const std::uint64_t chunk = std::min<std::uint64_t>(size, 64 * 1024);
  std::string tail(chunk, '\0');
  if (::pread(s.fd, tail.data(), chunk, static_cast<off_t>(size - chunk)) !=
      static_cast<ssize_t>(chunk))
    return fail(Errc::Io, path.string() + ": cannot read: " + errnoText());
  if (tail.back() != '\n') {
    auto nl = tail.rfind('\n');
    if (nl == std::string::npos && chunk < size)
      return fail(Errc::Malformed, path.string() + ": last line longer than 64 KiB");
    const std::uint64_t keep = nl == std::string::npos ? size - chunk : size - chunk + nl + 1;
    if (::ftruncate(s.fd, static_cast<off_t>(keep)) != 0 || ::fsync(s.fd) != 0)
      return fail(Errc::Io, path.string() + ": cannot cut an incomplete line: " + errnoText());
    if (s.options.journal)
      s.options.journal("discarded an incomplete last line (" + std::to_string(size - keep) +
                        " bytes, never acknowledged)");
    tail.resize(nl == std::string::npos ? 0 : nl + 1);
    size = keep;
    if (size == 0) return log;
  }
  tail.pop_back();  // the final '\n'
  auto start = tail.rfind('\n');
  std::string_view last = std::string_view(tail).substr(start == std::string::npos ? 0 : start + 1);
  auto p = parseLine(last);
  if (!p || !p->hash_ok)
    return fail(Errc::Malformed, path.string() + ": the last line is not an intact audit line");
  s.seq = p->seq;
  s.synced = p->seq;
  s.head = p->hash;
  return log;
}

Result<std::uint64_t> AuditLog::write(std::string body, UnixSeconds) {
  State& s = *s_;
  if (s.broken) return fail(Errc::Io, s.broken_reason);
  // Into the unwritten tail, in chain order; the next sync writes it to the
  // file with one write(2) before its fdatasync (nothing is acknowledged before).
  s.head = hexEncode(crypto::sha256(body));
  s.unwritten += body;
  s.unwritten += kHashField;
  s.unwritten += s.head;
  s.unwritten += "\"}\n";
  ++s.seq;
  ++s.stats.lines;
  return s.seq;
}

Result<void> AuditLog::writeOut(std::string_view lines) {
  State& s = *s_;
  while (!lines.empty()) {
    auto n = ::write(s.fd, lines.data(), lines.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::Io, s.path.string() + ": cannot append: " + errnoText());
    lines.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> AuditLog::durable(std::unique_lock<std::mutex>& lock, std::uint64_t seq) {
  State& s = *s_;
  while (s.synced < seq) {
    if (s.broken) return fail(Errc::Io, s.broken_reason);
    if (s.syncing) {
      s.synced_cv.wait(lock);
      continue;
    }
    // This thread writes and syncs every line added so far, its own and the
    // others'; only the syncing thread writes, so the file keeps the chain's order.
    s.syncing = true;
    const std::uint64_t target = s.seq;
    const std::string lines = std::exchange(s.unwritten, {});
    ++s.stats.syncs;
    s.last_sync_start = std::chrono::steady_clock::now();
    lock.unlock();
    Result<void> done = writeOut(lines);
    if (done) {
      if ((s.options.sync ? s.options.sync(s.fd) : ::fdatasync(s.fd)) != 0)
        done = fail(Errc::Io, s.path.string() + ": cannot sync: " + errnoText());
    }
    lock.lock();
    s.syncing = false;
    if (!done) {
      s.broken = true;
      s.broken_reason = done.error().message;
      s.synced_cv.notify_all();
      return std::unexpected(done.error());
    }
    s.synced = std::max(s.synced, target);
    s.synced_cv.notify_all();
    // Checkpoints now on disk go to the journal (in order).
    if (s.options.journal) {
      auto end = std::find_if(s.pending_journal.begin(), s.pending_journal.end(),
                              [&](const auto& p) { return p.first > s.synced; });
      for (auto it = s.pending_journal.begin(); it != end; ++it) s.options.journal(it->second);
      s.pending_journal.erase(s.pending_journal.begin(), end);
    } else {
      s.pending_journal.clear();
    }
  }
  if (s.broken && s.synced < seq) return fail(Errc::Io, s.broken_reason);
  return {};
}

std::string AuditLog::entryFields(const Entry& e, UnixSeconds now) {
  return ",\"time\":" + jsonString(formatUtc(now)) + ",\"operator\":" + jsonString(e.operator_cn) +
         ",\"action\":" + jsonString(e.action) +
         ",\"query\":" + dumpJson(e.query.is_object() ? e.query : nlohmann::json::object()) +
         ",\"results\":" + dumpJson(nlohmann::json(e.results));
}

Result<std::pair<std::uint64_t, std::uint64_t>> AuditLog::writeEntry(std::string_view fields,
                                                                     UnixSeconds now) {
  State& s = *s_;
  std::string body = "{\"seq\":" + std::to_string(s.seq + 1);
  body += fields;
  body += ",\"prev\":\"" + s.head + "\"";
  auto seq = write(std::move(body), now);
  if (!seq) return std::unexpected(seq.error());
  std::uint64_t last = *seq;
  if (++s.since_checkpoint >= s.options.checkpoint_every) {
    auto c = checkpointLocked(now);
    if (!c) return std::unexpected(c.error());
    last = *c;
  }
  return std::pair{*seq, last};
}

Result<std::uint64_t> AuditLog::append(const Entry& e, UnixSeconds now) {
  const std::string fields = entryFields(e, now);
  std::unique_lock lock(s_->mu);
  auto w = writeEntry(fields, now);
  if (!w) return std::unexpected(w.error());
  if (auto d = durable(lock, w->second); !d) return std::unexpected(d.error());
  return w->first;
}

Result<std::uint64_t> AuditLog::appendPending(const Entry& e, UnixSeconds now) {
  const std::string fields = entryFields(e, now);  // all but seq and prev, without the lock
  std::lock_guard lock(s_->mu);
  auto w = writeEntry(fields, now);
  if (!w) return std::unexpected(w.error());
  return w->first;
}

void AuditLog::whenDurable(std::uint64_t seq, DurableCallback done) {
  State& s = *s_;
  std::unique_lock lock(s.mu);
  if (s.synced >= seq || s.broken || s.stopping) {
    Result<void> r;
    if (s.synced < seq)
      r = fail(Errc::Io, s.broken ? s.broken_reason : s.path.string() + ": the log is closing");
    lock.unlock();
    done(std::move(r));
    return;
  }
  // The sync thread waits on waiters_cv only while there are no waiters (it
  // then waits out the interval, or syncs): waking it for every request would
  // only make it fight the request threads for the lock.
  const bool was_idle = s.waiters.empty();
  s.waiters.push_back({seq, std::move(done)});
  if (!s.syncer.joinable()) s.syncer = std::thread([this] { syncLoop(); });
  if (was_idle) s.waiters_cv.notify_one();
}

// The sync thread: one fdatasync after another while callbacks wait, each
// covering every line written by the time it starts, and at most one per
// min_sync_interval (so the more requests arrive, the more one sync covers).
void AuditLog::syncLoop() {
  State& s = *s_;
  std::unique_lock lock(s.mu);
  for (;;) {
    s.waiters_cv.wait(lock, [&] { return s.stopping || !s.waiters.empty(); });
    if (s.waiters.empty()) return;  // stopping, nothing left to serve
    // Group commit: what arrives before the next sync may start rides on it.
    s.waiters_cv.wait_until(lock, s.last_sync_start + s.options.min_sync_interval,
                            [&] { return s.stopping; });
    std::uint64_t highest = 0;
    for (const auto& w : s.waiters) highest = std::max(highest, w.seq);
    const Result<void> r = durable(lock, std::max(highest, s.seq));
    std::vector<State::Waiter> ready, later;
    for (auto& w : s.waiters) (!r || w.seq <= s.synced ? ready : later).push_back(std::move(w));
    s.waiters = std::move(later);
    lock.unlock();
    for (auto& w : ready) w.done(r);
    lock.lock();
  }
}

void AuditLog::finishPending() {
  State& s = *s_;
  std::thread t;
  {
    std::lock_guard lock(s.mu);
    s.stopping = true;
    s.waiters_cv.notify_all();
    t = std::move(s.syncer);
  }
  if (t.joinable()) t.join();
  // Lines nobody waited for (appendPending without whenDurable) still reach the file.
  std::unique_lock lock(s.mu);
  if (!s.unwritten.empty() && !s.broken) (void)durable(lock, s.seq);
}

Result<std::uint64_t> AuditLog::checkpoint(UnixSeconds now) {
  std::unique_lock lock(s_->mu);
  auto c = checkpointLocked(now);
  if (!c) return c;
  if (auto d = durable(lock, *c); !d) return std::unexpected(d.error());
  return c;
}

LogStats AuditLog::stats() const {
  std::lock_guard lock(s_->mu);
  return s_->stats;
}

Result<std::uint64_t> AuditLog::checkpointLocked(UnixSeconds now) {
  State& s = *s_;
  const std::uint64_t seq = s.seq + 1;
  const auto pub = s.key.publicKey();
  std::string body = "{\"seq\":" + std::to_string(seq) + ",\"time\":" + jsonString(formatUtc(now)) +
                     ",\"operator\":\"-\",\"action\":\"checkpoint\",\"query\":{},\"results\":[]" +
                     ",\"key_id\":\"" + pub.keyId() + "\",\"sig\":\"" +
                     base64Encode(s.key.sign(checkpointMessage(seq, s.head))) + "\",\"prev\":\"" +
                     s.head + "\"";
  auto r = write(std::move(body), now);
  if (!r) return r;
  s.since_checkpoint = 0;
  s.pending_journal.emplace_back(seq, "checkpoint seq=" + std::to_string(seq) + " hash=" + s.head);
  return r;
}

std::uint64_t AuditLog::lastSeq() const {
  std::lock_guard lock(s_->mu);
  return s_->seq;
}

Result<std::vector<std::string>> AuditLog::tail(std::size_t n) {
  std::unique_lock lock(s_->mu);
  const State& s = *s_;
  // What the view shows is on disk, the line recording this view among it.
  if (auto d = durable(lock, s.seq); !d) return std::unexpected(d.error());
  struct stat st {};
  if (::fstat(s.fd, &st) != 0) return fail(Errc::Io, s.path.string() + ": " + errnoText());
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::string buf;
  std::uint64_t from = size;
  while (from > 0 && static_cast<std::size_t>(std::count(buf.begin(), buf.end(), '\n')) <= n) {
    const std::uint64_t chunk = std::min<std::uint64_t>(from, 64 * 1024);
    from -= chunk;
    std::string part(chunk, '\0');
    if (::pread(s.fd, part.data(), chunk, static_cast<off_t>(from)) != static_cast<ssize_t>(chunk))
      return fail(Errc::Io, s.path.string() + ": cannot read: " + errnoText());
    buf.insert(0, part);
  }
  std::vector<std::string> lines;
  std::string_view v = buf;
  if (from > 0) v.remove_prefix(std::min(v.size(), v.find('\n') + 1));  // a partial first line
  while (!v.empty()) {
    auto nl = v.find('\n');
    if (nl == std::string_view::npos) break;
    lines.emplace_back(v.substr(0, nl));
    v.remove_prefix(nl + 1);
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<long>(n));
  return lines;
}

std::vector<ExternalCheckpoint> parseJournal(std::string_view text) {
  std::vector<ExternalCheckpoint> out;
  constexpr std::string_view kMark = "checkpoint seq=";
  std::size_t pos = 0;
  while ((pos = text.find(kMark, pos)) != std::string_view::npos) {
    pos += kMark.size();
    std::uint64_t seq = 0;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 19) {
      seq = seq * 10 + static_cast<std::uint64_t>(text[pos] - '0');
      ++pos, ++digits;
    }
    if (digits == 0 || text.substr(pos, 6) != " hash=") continue;
    auto hash = text.substr(pos + 6, 64);
    if (!isHex64(hash)) continue;
    out.push_back({seq, std::string(hash)});
  }
  return out;
}

Result<VerifyReport> verify(const std::filesystem::path& path,
                            const std::optional<crypto::PublicKey>& key,
                            const std::vector<ExternalCheckpoint>& external) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::Io, path.string() + ": cannot open");
  std::map<std::uint64_t, std::string> wanted;
  for (const auto& c : external) wanted[c.seq] = c.hash;
  VerifyReport report;
  std::uint64_t prev_seq = 0;
  std::string prev_hash = kGenesis;
  std::string line;
  std::uint64_t n = 0;
  auto broken = [&](std::uint64_t at, const std::string& why) {
    return fail(Errc::Malformed, "line " + std::to_string(at) + ": " + why);
  };
  while (std::getline(in, line)) {
    if (in.eof()) {  // no '\n' after it: a write cut short by a crash
      report.torn_tail = true;
      break;
    }
    ++n;
    auto p = parseLine(line);
    if (!p) return broken(n, "not an audit line (edited, or inserted by hand)");
    if (!p->hash_ok) return broken(n, "content does not match its hash (edited)");
    if (p->seq <= prev_seq)
      return broken(n, "seq " + std::to_string(p->seq) + " after seq " + std::to_string(prev_seq) +
                           " (a line inserted or moved here)");
    if (p->seq > prev_seq + 1)
      return broken(n, "seq " + std::to_string(p->seq) + " where " + std::to_string(prev_seq + 1) +
                           " was expected (a line deleted or moved before it)");
    if (p->prev != prev_hash) {
      if (n == 1) return broken(1, "does not start the chain (lines deleted before it)");
      return broken(n - 1, "edited: its hash was recomputed, but line " + std::to_string(n) +
                               " chains to a different one");
    }
    if (p->action == "checkpoint") {
      ++report.checkpoints;
      if (key) {
        auto sig = base64Decode(p->sig);
        if (p->key_id != key->keyId())
          return broken(n, "checkpoint signed by another key (" + p->key_id + ")");
        if (!sig || !key->verify(checkpointMessage(p->seq, p->prev), *sig))
          return broken(n, "checkpoint signature does not verify");
      }
    }
    if (auto w = wanted.find(p->seq); w != wanted.end() && w->second != p->hash)
      return broken(
          n, "differs from checkpoint seq " + std::to_string(p->seq) + " recorded in the journal");
    prev_seq = p->seq;
    prev_hash = p->hash;
  }
  report.lines = n;
  if (!wanted.empty() && wanted.rbegin()->first > prev_seq)
    return broken(n + 1, "missing: the journal holds checkpoint seq " +
                             std::to_string(wanted.rbegin()->first) + " but the log ends at seq " +
                             std::to_string(prev_seq) + " (its tail was cut)");
  return report;
}

Result<crypto::SigningKey> loadOrCreateNodeKey(const std::filesystem::path& key_path) {
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec)) {
    auto pem = readFile(key_path, 16 * 1024);
    if (!pem) return fail(pem.error().code, key_path.string() + ": " + pem.error().message);
    auto k = crypto::SigningKey::fromPem(*pem);
    if (!k) return fail(k.error().code, key_path.string() + ": " + k.error().message);
    return k;
  }
  auto k = crypto::SigningKey::generate();
  if (!k) return k;
  if (auto r = writeFileAtomic(key_path, k->toPem(), 0600); !r) return std::unexpected(r.error());
  auto pub = key_path;
  pub += ".pub";
  if (auto r = writeFileAtomic(pub, k->publicKey().toPem(), 0644); !r)
    return std::unexpected(r.error());
  return k;
}

}  // namespace kb::audit
