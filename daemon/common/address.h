#pragma once
/// The kiosk API shows cardholder data without a login, so it must only ever be
/// reachable from the kiosk itself: one definition of "loopback" for the config
/// check (where we listen) and the HTTP Host/Origin check (who may ask).

#include <string_view>

namespace kb {

/// True for "localhost", a dotted-quad IPv4 address in 127.0.0.0/8, "::1" or "[::1]".
/// Nothing else: no short or octal IPv4 forms, no names that merely start with 127.
bool isLoopbackAddress(std::string_view host);

}  // namespace kb
