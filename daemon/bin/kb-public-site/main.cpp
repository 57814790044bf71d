// kb-public-site --content DIR --out DIR: writes the public guidance site that the
// kiosk's QR codes open (static HTML, both languages, no personal data).

#include <iostream>
#include <string>
#include <string_view>

#include "publicsite/public_site.h"

int main(int argc, char** argv) {
  std::string content, out;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help") {
      std::cout << "usage: kb-public-site --content DIR --out DIR\n"
                   "  --content DIR  kiosk-ui/content (guidance/<lang>/*.json, i18n/<lang>.json)\n"
                   "  --out DIR      where the site is written\n";
      return 0;
    }
    if ((a == "--content" || a == "--out") && i + 1 < argc) {
      (a == "--content" ? content : out) = argv[++i];
      continue;
    }
    std::cerr << "error: USAGE: unknown argument " << a << " (see --help)\n";
    return 2;
  }
  if (content.empty() || out.empty()) {
    std::cerr << "error: USAGE: --content and --out are required (see --help)\n";
    return 2;
  }
  auto written = kb::publicsite::buildSite(content, out);
  if (!written) {
    std::cerr << kb::formatError(written.error()) << '\n';
    return 1;
  }
  std::cout << written->size() << " files in " << out << '\n';
  return 0;
}
