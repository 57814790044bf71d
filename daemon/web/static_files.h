#pragma once
/// Serves files under one root directory. A request path is percent-decoded,
/// resolved (symlinks included) with weakly_canonical and then must still lie
/// under the root; anything else is 404. Directories serve their index.html,
/// never a listing.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "web/response.h"

namespace kb::web {

/// Content type by file extension; application/octet-stream when unknown.
std::string_view contentType(const std::filesystem::path& file);
/// RFC 3986 percent-decoding; nullopt for a bad escape or a decoded NUL.
std::optional<std::string> percentDecode(std::string_view text);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);
  /// The file a request target maps to, or nullopt if it is outside the root or absent.
  std::optional<std::filesystem::path> resolve(std::string_view target) const;
  /// GET/HEAD response for `target`.
  Response serve(const Request& req) const;

 private:
  std::filesystem::path root_;  // canonical
};

}  // namespace kb::web
