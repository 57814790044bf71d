#include "cache/trust_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cache/errors.h"
#include "common/fd.h"
#include "common/files.h"
#include "tpm/counter.h"
#include "trust/errors.h"

namespace kb::cache {
namespace {

using nlohmann::json;
constexpr std::string_view kFormat = "kartu-bahagia/trust-state";
constexpr std::size_t kMaxStateBytes = 256 * 1024;

Error ioError(const std::filesystem::path& p, std::string_view what) {
  return Error{Errc::Io, p.string() + ": " + std::string(what) + ": " + std::strerror(errno)};
}

Error broken(const std::filesystem::path& p, const std::string& why) {
  return Error{CacheErrc::Unverifiable, p.string() + ": trust state " + why};
}

Result<TrustState> parseState(const std::filesystem::path& path, std::string_view text) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::unexpected(broken(path, "is not JSON"));
  auto str = [&](const char* k) -> const std::string* {
    auto it = doc.find(k);
    return it != doc.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const std::string* format = str("format");
  if (!format || *format != kFormat)
    return std::unexpected(broken(path, "has no format \"" + std::string(kFormat) + "\""));
  TrustState s;
  auto rv = doc.find("root_version");
  if (rv == doc.end() || !rv->is_number_integer() || rv->get<std::int64_t>() < 0 ||
      rv->get<std::int64_t>() > 1'000'000)
    return std::unexpected(broken(path, "root_version must be a non-negative integer"));
  s.root_version = rv->get<int>();
  const std::string* root = str("root");
  if (!root) return std::unexpected(broken(path, "root must be a string"));
  s.root_text = *root;
  if ((s.root_version == 0) != s.root_text.empty())
    return std::unexpected(broken(path, "root and root_version disagree"));
  auto caches = doc.find("caches");
  if (caches == doc.end() || !caches->is_object())
    return std::unexpected(broken(path, "caches must be an object"));
  for (const auto& [name, entry] : caches->items()) {
    if (!entry.is_object() || !entry.contains("serial") || !entry["serial"].is_number_integer() ||
        !entry.contains("newest_signed_at") || !entry["newest_signed_at"].is_string())
      return std::unexpected(broken(path, "entry " + name + " needs serial and newest_signed_at"));
    CacheFloor f;
    f.serial = entry["serial"].get<std::int64_t>();
    auto t = parseUtc(entry["newest_signed_at"].get<std::string>());
    if (f.serial < 0 || f.serial > kMaxSerial || !t)
      return std::unexpected(broken(path, "entry " + name + " is out of range"));
    f.newest_signed_at = *t;
    s.caches.emplace(name, f);
  }
  return s;
}

std::string serialize(const TrustState& s) {
  json caches = json::object();
  for (const auto& [name, f] : s.caches)
    caches[name] = {{"serial", f.serial}, {"newest_signed_at", formatUtc(f.newest_signed_at)}};
  json doc = {{"format", kFormat},
              {"root_version", s.root_version},
              {"root", s.root_text},
              {"caches", caches}};
  return doc.dump(2) + "\n";
}

}  // namespace

std::optional<CacheFloor> TrustState::floorOf(const std::filesystem::path& db) const {
  auto it = caches.find(db.filename().string());
  if (it == caches.end()) return std::nullopt;
  return it->second;
}

std::filesystem::path trustStatePath(const std::filesystem::path& db) {
  auto dir = db.parent_path();
  return (dir.empty() ? std::filesystem::path(".") : dir) / "trust-state.json";
}

Result<void> setServedFileOwnership(int fd, const std::filesystem::path& path) {
  if (::fchmod(fd, 0644) != 0) return std::unexpected(ioError(path, "cannot set mode"));
  return chownToDirectoryOwner(fd, path);
}

Result<std::optional<CacheFloor>> withTpmFloor(std::optional<CacheFloor> floor,
                                               const std::optional<std::string>& tcti) {
  if (!tcti) return floor;
  auto counter = tpm::Counter::open(*tcti);
  if (!counter) return std::unexpected(counter.error());
  auto v = counter->value();
  if (!v) return std::unexpected(v.error());
  if (!floor) floor = CacheFloor{};
  floor->serial = std::max(floor->serial, *v);
  return floor;
}

Result<void> raiseTpmCounter(const std::optional<std::string>& tcti, std::int64_t serial) {
  if (!tcti) return {};
  auto counter = tpm::Counter::open(*tcti);
  if (!counter) return std::unexpected(counter.error());
  auto v = counter->raiseTo(serial);
  if (!v) return std::unexpected(v.error());
  return {};
}

Result<TrustState> loadTrustState(const std::filesystem::path& path) {
  // O_NONBLOCK: a FIFO planted here must not hang the daemon; fstat refuses it.
  UniqueFd f(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (f.get() < 0) {
    if (errno == ENOENT) return TrustState{};
    if (errno == ELOOP) return std::unexpected(broken(path, "is a symlink"));
    return std::unexpected(ioError(path, "cannot open trust state"));
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) return std::unexpected(ioError(path, "cannot stat"));
  if (!S_ISREG(st.st_mode)) return std::unexpected(broken(path, "is not a regular file"));
  if (st.st_size > static_cast<off_t>(kMaxStateBytes))
    return std::unexpected(broken(path, "is too large"));
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::read(f.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::unexpected(broken(path, "is shorter than its size"));
    off += static_cast<std::size_t>(n);
  }
  return parseState(path, text);
}

namespace {
// The raise with the lock taken (`wait`) or tried: nullopt when tried and busy.
Result<std::optional<TrustState>> raiseLocked(const std::filesystem::path& path,
                                              const TrustRaise& raise, bool wait) {
  auto lock_path = path;
  lock_path += ".lock";
  // Read-only is enough for flock, so a daemon can lock a file root created.
  UniqueFd lock(::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (lock.get() < 0) return std::unexpected(ioError(lock_path, "cannot open lock file"));
  while (::flock(lock.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    if (!wait && errno == EWOULDBLOCK) return std::optional<TrustState>();
    return std::unexpected(ioError(lock_path, "cannot lock"));
  }
  auto state = loadTrustState(path);
  if (!state) return std::unexpected(state.error());
  bool changed = false;
  if (raise.db) {
    auto [it, added] = state->caches.try_emplace(raise.db->filename().string());
    CacheFloor& f = it->second;
    if (added || raise.serial > f.serial || raise.signed_at > f.newest_signed_at) changed = true;
    f.serial = std::max(f.serial, raise.serial);
    f.newest_signed_at = std::max(f.newest_signed_at, raise.signed_at);
  }
  if (raise.root && raise.root->version() > state->root_version) {
    state->root_version = raise.root->version();
    state->root_text = raise.root->text();
    changed = true;
  }
  if (changed)
    if (auto r = writeFileAtomic(path, serialize(*state), 0644, FileOwner::DirectoryOwner); !r)
      return std::unexpected(r.error());
  return std::optional<TrustState>(std::move(*state));
}
}  // namespace

Result<TrustState> raiseTrustState(const std::filesystem::path& path, const TrustRaise& raise) {
  auto r = raiseLocked(path, raise, true);
  if (!r) return std::unexpected(r.error());
  return std::move(**r);
}

Result<std::optional<TrustState>> tryRaiseTrustState(const std::filesystem::path& path,
                                                     const TrustRaise& raise) {
  return raiseLocked(path, raise, false);
}

Result<void> checkRootChain(const TrustState& state, const trust::TrustRoot& root,
                            const std::filesystem::path& chain_dir) {
  if (state.root_version == 0) return {};  // nothing pinned: this root starts the chain
  if (root.version() < state.root_version)
    return fail(TrustErrc::Rollback, "trust root version " + std::to_string(root.version()) +
                                         " is older than the trusted version " +
                                         std::to_string(state.root_version));
  if (root.version() == state.root_version) {
    if (root.text() == state.root_text) return {};
    return fail(TrustErrc::UnknownKey, "trust root version " + std::to_string(root.version()) +
                                           " is not the one this node trusts");
  }
  // The pinned root may have expired meanwhile: it is only the chain's start.
  auto current = trust::TrustRoot::parse(state.root_text, 0);
  if (!current)
    return fail(CacheErrc::Unverifiable, "the pinned trust root does not parse: " +
                                             std::string(codeName(current.error().code)) + ": " +
                                             current.error().message);
  for (int v = current->version() + 1; v < root.version(); ++v) {
    const auto file = chain_dir / ("root-" + std::to_string(v) + ".json");
    auto text = readFile(file, 1024 * 1024);
    if (!text)
      return fail(TrustErrc::UnknownKey,
                  "trust root version " + std::to_string(root.version()) + " needs version " +
                      std::to_string(v) + " (" + file.string() +
                      ") to chain from the trusted version " + std::to_string(state.root_version));
    auto next = current->update(*text, 0);  // an old link may have expired since
    if (!next)
      return fail(next.error().code,
                  file.string() + ": not chained from the trusted root: " + next.error().message);
    current = std::move(*next);
  }
  auto last = current->update(root.text(), 0);
  if (!last)
    return fail(last.error().code, "trust root version " + std::to_string(root.version()) +
                                       " is not chained from the trusted version " +
                                       std::to_string(state.root_version) + ": " +
                                       last.error().message);
  return {};
}

}  // namespace kb::cache
