#include "web/static_files.h"

#include <algorithm>
#include <array>
#include <system_error>
#include <utility>

#include "common/encoding.h"
#include "common/files.h"

namespace kb::web {
namespace fs = std::filesystem;

namespace {
// The UI is small; a larger file is a mistake, not something to stream.
constexpr std::uint64_t kMaxFileSize = 16 * 1024 * 1024;

bool isUnder(const fs::path& root, const fs::path& p) {
  auto [root_end, p_it] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return root_end == root.end();
}

}  // namespace

std::string_view contentType(const fs::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
  }};
  auto ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [e, type] : kTypes)
    if (e == ext) return type;
  return "application/octet-stream";
}

std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      auto byte = hexDecode(text.substr(i + 1, 2));
      if (!byte) return std::nullopt;
      c = (*byte)[0];
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

StaticFiles::StaticFiles(fs::path root) {
  std::error_code ec;
  root_ = fs::weakly_canonical(root, ec);
  if (ec) root_ = root.lexically_normal();
}

std::optional<fs::path> StaticFiles::resolve(std::string_view target) const {
  auto decoded = percentDecode(targetPath(target));
  if (!decoded || decoded->empty() || decoded->front() != '/') return std::nullopt;
  std::string rel = decoded->substr(1);
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  std::error_code ec;
  fs::path full = fs::weakly_canonical(root_ / fs::path(rel), ec);
  if (ec || !isUnder(root_, full)) return std::nullopt;
  if (fs::is_directory(full, ec)) {
    full = fs::weakly_canonical(full / "index.html", ec);
    if (ec || !isUnder(root_, full)) return std::nullopt;
  }
  if (!fs::is_regular_file(full, ec)) return std::nullopt;
  return full;
}

Response StaticFiles::serve(const Request& req) const {
  auto file = resolve(req.target());
  if (!file) return errorResponse(http::status::not_found, "NOT_FOUND", "no such file");
  auto body = readFile(*file, kMaxFileSize);
  if (!body) return errorResponse(http::status::not_found, "NOT_FOUND", "file cannot be read");
  auto res = makeResponse(http::status::ok, contentType(*file), std::move(*body));
  // The UI is a handful of files on loopback; always fresh after an upgrade.
  res.set(http::field::cache_control, "no-cache");
  if (req.method() == http::verb::head) {
    auto size = res.body().size();
    res.body().clear();
    res.content_length(size);
  }
  return res;
}

}  // namespace kb::web
