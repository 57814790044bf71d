#pragma once
/// File helpers with the two properties every caller needs: a size limit on
/// reads (no endless data) and crash-safe replacement on writes.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace kb {

/// Reads the whole file; TOO_LARGE past max_bytes, IO if it cannot be read.
Result<std::string> readFile(const std::filesystem::path& path, std::uint64_t max_bytes);

/// Who owns a file once it is written.
enum class FileOwner {
  Writer,          ///< whoever runs the program
  DirectoryOwner,  ///< the directory's owner and group (root writing for a service user)
};

/// Writes to a temporary sibling, fsyncs it, renames it over `path` and
/// fsyncs the directory: readers see the old or the new content, never a mix.
/// The temporary is never written through a link planted in its place.
Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode = 0644, FileOwner owner = FileOwner::Writer);

/// Appends bytes to the file being written; IO when the write fails.
using FileSink = std::function<Result<void>(std::string_view bytes)>;

/// writeFileAtomic for content too large to hold at once: `produce` writes it
/// through the sink it is given, in pieces of any size. If `produce` or a write
/// fails, the temporary is removed, `path` is untouched and that error is returned.
Result<void> writeFileAtomicStreamed(const std::filesystem::path& path,
                                     const std::function<Result<void>(const FileSink&)>& produce,
                                     unsigned mode = 0644, FileOwner owner = FileOwner::Writer);

/// When running as root, gives the open file `fd` (named `path`) the owner and
/// group of its directory; otherwise does nothing.
Result<void> chownToDirectoryOwner(int fd, const std::filesystem::path& path);

/// fsync of a directory, so that a rename inside it survives a power cut.
Result<void> syncDirectory(const std::filesystem::path& dir);

}  // namespace kb
