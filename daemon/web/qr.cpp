#include "web/qr.h"

#include <qrencode.h>

#include <memory>

namespace kb::web {
namespace {
struct QrDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;
constexpr int kQuiet = 4;
}  // namespace

Result<std::string> qrSvg(std::string_view text) {
  std::string input(text);  // libqrencode wants a NUL-terminated string
  QrPtr code(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!code) return fail(Errc::TooLarge, "text does not fit a QR code");
  const int width = code->width;
  const int size = width + 2 * kQuiet;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(size) + " " + std::to_string(size) +
                    "\" shape-rendering=\"crispEdges\" role=\"img\">" +
                    "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each module byte is "dark" (qrencode.h).
      if (code->data[y * width + x] & 1)
        svg += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h1v1h-1z";
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

}  // namespace kb::web
