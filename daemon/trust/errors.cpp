#include "trust/errors.h"

namespace kb {

namespace {

std::string_view nameOf(TrustErrc code) noexcept {
  switch (code) {
    case TrustErrc::BadSignature:
      return "BAD_SIGNATURE";
    case TrustErrc::UnknownKey:
      return "UNKNOWN_KEY";
    case TrustErrc::ThresholdNotMet:
      return "THRESHOLD_NOT_MET";
    case TrustErrc::DuplicateSignature:
      return "DUPLICATE_SIGNATURE";
    case TrustErrc::RootExpired:
      return "ROOT_EXPIRED";
    case TrustErrc::Rollback:
      return "ROLLBACK";
  }
  return {};
}

constinit const EnumCategory<TrustErrc, nameOf> kCategory("kb.trust");

}  // namespace

std::error_code make_error_code(TrustErrc code) noexcept {
  return kCategory.code(code);
}

}  // namespace kb
