#include <cstdint>
#include <string>
#include <string_view>

#include "pn532_emulator.h"

namespace kb::test {

namespace {

char byte(unsigned v) {
  return static_cast<char>(static_cast<std::uint8_t>(v));
}
unsigned u8(char c) {
  return static_cast<std::uint8_t>(c);
}

// Page of the dynamic lock bytes (first page after user memory) per NTAG21x datasheet.
int dynamicLockPage(TagKind kind) {
  switch (kind) {
    case TagKind::Ntag213:
      return 0x28;
    case TagKind::Ntag215:
      return 0x82;
    case TagKind::Ntag216:
      return 0xE2;
    default:
      return 0;
  }
}

// CC byte 2: data area size / 8.
unsigned ccSize(TagKind kind) {
  switch (kind) {
    case TagKind::Ntag213:
      return 0x12;
    case TagKind::Ntag215:
      return 0x3E;
    case TagKind::Ntag216:
      return 0x6D;
    default:
      return 0;
  }
}

}  // namespace

int ntagPageCount(TagKind kind) {
  switch (kind) {
    case TagKind::Ntag213:
      return 45;
    case TagKind::Ntag215:
      return 135;
    case TagKind::Ntag216:
      return 231;
    default:
      return 0;
  }
}

void setImageUid(std::string& image, std::string_view uid) {
  if (uid.size() != 7 || image.size() < 12) return;
  image[0] = uid[0];
  image[1] = uid[1];
  image[2] = uid[2];
  image[3] = byte(0x88u ^ u8(uid[0]) ^ u8(uid[1]) ^ u8(uid[2]));  // BCC0 includes the cascade tag
  for (int i = 0; i < 4; ++i)
    image[static_cast<std::size_t>(4 + i)] = uid[static_cast<std::size_t>(3 + i)];
  image[8] = byte(u8(uid[3]) ^ u8(uid[4]) ^ u8(uid[5]) ^ u8(uid[6]));  // BCC1
}

std::string blankNtagImage(TagKind kind, std::string_view uid) {
  const int pages = ntagPageCount(kind);
  if (pages == 0) return {};
  std::string image(static_cast<std::size_t>(pages) * 4, '\0');
  setImageUid(image, uid);
  image[9] = byte(0x48);  // "internal" byte as shipped
  // Capability container: NDEF magic, version 1.0, size, read/write access.
  image[12] = byte(0xE1);
  image[13] = byte(0x10);
  image[14] = byte(ccSize(kind));
  image[15] = byte(0x00);
  // Empty NDEF message TLV followed by the terminator TLV.
  image[16] = byte(0x03);
  image[17] = byte(0x00);
  image[18] = byte(0xFE);
  const auto dyn = static_cast<std::size_t>(dynamicLockPage(kind)) * 4;
  image[dyn + 3] = byte(0xBD);  // dynamic lock RFUI byte
  image[dyn + 4] = byte(0x04);  // CFG0: MIRROR
  image[dyn + 7] = byte(0xFF);  // CFG0: AUTH0 = no password protection
  image[dyn + 9] = byte(0x05);  // CFG1: RFUI as shipped
  for (std::size_t i = 0; i < 4; ++i) image[dyn + 12 + i] = byte(0xFF);  // PWD
  return image;
}

}  // namespace kb::test
