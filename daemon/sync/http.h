#pragma once
/// The HTTP(S) client of mirror sync, over libcurl: TLS with a given CA or the
/// system store, proxies from the environment, connect and low-speed deadlines,
/// byte limits, resume with Range. Each transport fault maps to its own code:
/// MIRROR_UNREACHABLE, TLS_UNTRUSTED, HTTP_STATUS, TIMEOUT, LENGTH_MISMATCH,
/// DISK_FULL (and IO for local files).

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.h"

namespace kb::sync {

struct HttpOptions {
  std::string ca_file;          ///< PEM bundle to trust; empty: the system's CA store
  long connect_timeout_s = 10;  ///< TCP and TLS set-up
  long low_speed_bytes = 1024;  ///< slower than this many bytes/s ...
  long low_speed_seconds = 30;  ///< ... for this long: TIMEOUT
  long total_timeout_s = 0;     ///< whole transfer; 0: none (the low-speed limit bounds it)
  const std::atomic<bool>* cancel = nullptr;  ///< set: the transfer stops within ~1 s (shutdown)
  bool allow_file = false;  ///< file:// URLs too (a mirror directory on a USB stick)
};

/// GETs `url` into memory. More than `max_bytes`: TOO_LARGE.
Result<std::string> fetchText(const std::string& url, std::uint64_t max_bytes,
                              const HttpOptions& options);

struct DownloadResult {
  std::uint64_t resumed_from = 0;  ///< bytes already in `part` that were kept
  std::uint64_t downloaded = 0;    ///< bytes received this time
};

/// Makes `part` hold exactly `length` bytes of `url`: what is already in `part`
/// is kept and the rest asked for with a Range request (a server that answers
/// 200 instead is read from the start). Never writes more than `length` bytes:
/// a longer file is LENGTH_MISMATCH as soon as it shows, a shorter complete one
/// too; both delete `part`. An interrupted transfer keeps `part` for the next
/// call to resume.
Result<DownloadResult> download(const std::string& url, const std::filesystem::path& part,
                                std::uint64_t length, const HttpOptions& options);

}  // namespace kb::sync
