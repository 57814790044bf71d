#include "reader.h"

namespace kb::reader {

std::string_view chipName(Chip chip) {
  switch (chip) {
    case Chip::Ntag213:
      return "ntag213";
    case Chip::Ntag215:
      return "ntag215";
    case Chip::Ntag216:
      return "ntag216";
    case Chip::Unknown:
      break;
  }
  return "unknown";
}

}  // namespace kb::reader
