#include "sync/errors.h"

namespace kb {

namespace {

std::string_view nameOf(SyncErrc code) noexcept {
  switch (code) {
    case SyncErrc::MirrorUnreachable:
      return "MIRROR_UNREACHABLE";
    case SyncErrc::TlsUntrusted:
      return "TLS_UNTRUSTED";
    case SyncErrc::HttpStatus:
      return "HTTP_STATUS";
    case SyncErrc::LengthMismatch:
      return "LENGTH_MISMATCH";
    case SyncErrc::Freeze:
      return "FREEZE";
  }
  return {};
}

constinit const EnumCategory<SyncErrc, nameOf> kCategory("kb.sync");

}  // namespace

std::error_code make_error_code(SyncErrc code) noexcept {
  return kCategory.code(code);
}

}  // namespace kb
