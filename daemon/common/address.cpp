#include "common/address.h"

#include <arpa/inet.h>

#include <string>

namespace kb {

bool isLoopbackAddress(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // inet_pton accepts exactly four decimal parts, each 0..255.
  in_addr a{};
  if (::inet_pton(AF_INET, std::string(host).c_str(), &a) != 1) return false;
  return (ntohl(a.s_addr) >> 24) == 127;
}

}  // namespace kb
