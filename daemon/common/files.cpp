#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd.h"

namespace kb {
namespace {

Error ioError(const std::filesystem::path& p, std::string_view what) {
  return Error{Errc::Io, p.string() + ": " + std::string(what) + ": " + std::strerror(errno)};
}
}  // namespace

Result<std::string> readFile(const std::filesystem::path& path, std::uint64_t max_bytes) {
  // O_NONBLOCK so that a FIFO (or a device) named by mistake or by an attacker
  // cannot hang the reader in open(); only regular files are read.
  UniqueFd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (f.get() < 0) return std::unexpected(ioError(path, "cannot open"));
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) return std::unexpected(ioError(path, "cannot stat"));
  if (!S_ISREG(st.st_mode)) return fail(Errc::Io, path.string() + ": not a regular file");
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(ioError(path, "cannot read"));
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::uint64_t>(n) > max_bytes)
      return fail(Errc::TooLarge, path.string() + ": larger than the limit of " +
                                      std::to_string(max_bytes) + " bytes");
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

Result<void> syncDirectory(const std::filesystem::path& dir) {
  UniqueFd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.get() < 0 || ::fsync(d.get()) != 0)
    return std::unexpected(ioError(dir, "cannot sync directory"));
  return {};
}

Result<void> chownToDirectoryOwner(int fd, const std::filesystem::path& path) {
  if (::geteuid() != 0) return {};
  auto dir = path.parent_path();
  struct stat st {};
  if (::stat(dir.empty() ? "." : dir.c_str(), &st) != 0)
    return std::unexpected(ioError(dir, "cannot stat"));
  if (::fchown(fd, st.st_uid, st.st_gid) != 0)
    return std::unexpected(ioError(path, "cannot set owner"));
  return {};
}

Result<void> writeFileAtomicStreamed(const std::filesystem::path& path,
                                     const std::function<Result<void>(const FileSink&)>& produce,
                                     unsigned mode, FileOwner owner) {
  auto tmp = path;
  tmp += ".tmp";
  {
    // A leftover or planted temporary (possibly a symlink) is removed, never
    // written through: O_EXCL also refuses one re-created in between.
    ::unlink(tmp.c_str());
    UniqueFd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)};
    if (f.get() < 0) return std::unexpected(ioError(tmp, "cannot create"));
    auto written = [&]() -> Result<void> {
      // umask must not widen or narrow a key file's mode
      if (::fchmod(f.get(), mode) != 0) return std::unexpected(ioError(tmp, "cannot set mode"));
      if (owner == FileOwner::DirectoryOwner)
        if (auto r = chownToDirectoryOwner(f.get(), tmp); !r) return r;
      const FileSink sink = [&](std::string_view data) -> Result<void> {
        std::size_t off = 0;
        while (off < data.size()) {
          ssize_t n = ::write(f.get(), data.data() + off, data.size() - off);
          if (n < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(ioError(tmp, "cannot write"));
          }
          off += static_cast<std::size_t>(n);
        }
        return {};
      };
      if (auto r = produce(sink); !r) return r;
      if (::fsync(f.get()) != 0) return std::unexpected(ioError(tmp, "cannot sync"));
      return {};
    }();
    if (!written) {
      ::unlink(tmp.c_str());
      return written;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = ioError(path, "cannot rename");
    ::unlink(tmp.c_str());
    return std::unexpected(err);
  }
  return syncDirectory(path.parent_path());
}

Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode, FileOwner owner) {
  return writeFileAtomicStreamed(
      path, [&](const FileSink& write) { return write(data); }, mode, owner);
}

}  // namespace kb
