#include "roster/errors.h"

namespace kb {

namespace {

class Category final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.roster"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<RosterErrc>(value)) {
      case RosterErrc::BadRoster:
        return "BAD_ROSTER";
    }
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& rosterCategory() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(RosterErrc code) noexcept {
  return {static_cast<int>(code), rosterCategory()};
}

}  // namespace kb
