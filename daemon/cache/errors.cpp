#include "cache/errors.h"

namespace kb {

namespace {

std::string_view nameOf(CacheErrc code) noexcept {
  switch (code) {
    case CacheErrc::Expired:
      return "EXPIRED";
    case CacheErrc::WrongBase:
      return "WRONG_BASE";
    case CacheErrc::DigestMismatch:
      return "DIGEST_MISMATCH";
    case CacheErrc::ClockBehind:
      return "CLOCK_BEHIND";
    case CacheErrc::Unverifiable:
      return "UNVERIFIABLE";
    case CacheErrc::WrongProfile:
      return "WRONG_PROFILE";
  }
  return {};
}

constinit const EnumCategory<CacheErrc, nameOf> kCategory("kb.cache");

}  // namespace

std::error_code make_error_code(CacheErrc code) noexcept {
  return kCategory.code(code);
}

}  // namespace kb
