#pragma once
/// The error codes of downloads from a mirror (docs/contracts.md §6): a std::error_code category of
/// its own (common/error.h). The names are those of `error: CODE:` (docs/contracts.md §2).

#include <system_error>
#include <type_traits>

#include "common/error.h"

namespace kb {

enum class SyncErrc {
  MirrorUnreachable =
      1,           ///< MIRROR_UNREACHABLE: no connection to the mirror (refused, no route, DNS)
  TlsUntrusted,    ///< TLS_UNTRUSTED: the mirror's certificate is not trusted
  HttpStatus,      ///< HTTP_STATUS: the mirror answered with an HTTP error status
  LengthMismatch,  ///< LENGTH_MISMATCH: a file is shorter or longer than the timestamp says
  Freeze,          ///< FREEZE: the mirror's timestamp has expired: no newer data is reaching us
};

std::error_code make_error_code(SyncErrc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::SyncErrc> : std::true_type {};
