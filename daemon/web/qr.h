#pragma once
/// QR codes as SVG (libqrencode does the encoding), for links to the public
/// guidance pages. Never used for anything personal.

#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::web {

/// An SVG image of `text` as a QR code (error correction M, 4-module quiet zone).
/// TOO_LARGE if the text does not fit a QR code.
Result<std::string> qrSvg(std::string_view text);

}  // namespace kb::web
