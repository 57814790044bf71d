#pragma once
/// The public guidance site that the kiosk's QR codes open on a citizen's phone
/// (public_guidance_url/<program>?lang=id|en): static HTML made from the same
/// guidance content as the kiosk, both languages, no personal data, nothing
/// loaded from elsewhere. A build artefact the city can host on any web server.

#include <filesystem>
#include <vector>

#include "common/error.h"

namespace kb::publicsite {

/// Reads `content_dir`/guidance/<lang>/<program>.json and i18n/<lang>.json and writes
/// `out_dir`/index.html, `out_dir`/<program>/index.html and `out_dir`/<program>.html.
/// Returns the files written. MALFORMED for content that is not the expected JSON.
Result<std::vector<std::filesystem::path>> buildSite(const std::filesystem::path& content_dir,
                                                     const std::filesystem::path& out_dir);

}  // namespace kb::publicsite
