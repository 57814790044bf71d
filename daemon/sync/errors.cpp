#include "sync/errors.h"

namespace kb {

namespace {

class Category final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.sync"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<SyncErrc>(value)) {
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
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& syncCategory() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(SyncErrc code) noexcept {
  return {static_cast<int>(code), syncCategory()};
}

}  // namespace kb
