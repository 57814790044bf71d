// pn532-emulator: a PN532 on a pty for libnfc tools and manual tests.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "common/encoding.h"
#include "common/files.h"
#include "pn532_emulator.h"

namespace {

constexpr const char* kHelp = R"(usage: pn532-emulator [options]
Emulates a PN532 (serial HSU link) on a pseudo-terminal. Prints the libnfc connstring,
then reads commands on stdin: insert | remove | unplug | quit.

  --chip KIND        ntag213 (default), ntag215, ntag216, mifare-classic, iso14443-4
  --mfd FILE         NTAG page image (.mfd as nfc-mfultralight writes it)
  --uid HEX          chip UID (14 hex digits for NTAG; pages 0-2 are rewritten)
  --signature HEX    32-byte READ_SIG answer (64 hex digits)
  --throttle         take 115200 baud wire time
  --trace            log frames to stderr
  --link PATH        also make PATH a symlink to the pty
  --no-card          start with the field empty
  --help             this text

example: LIBNFC_DEVICE=pn532_uart:/dev/pts/5 LIBNFC_AUTO_SCAN=false nfc-list
)";

int usage(const std::string& why) {
  std::cerr << "error: USAGE: " << why << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kb::test;
  EmulatorOptions options;
  EmulatedCard card;
  std::string link;
  bool withCard = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--chip") {
      const auto v = value();
      if (v == "ntag213")
        card.kind = TagKind::Ntag213;
      else if (v == "ntag215")
        card.kind = TagKind::Ntag215;
      else if (v == "ntag216")
        card.kind = TagKind::Ntag216;
      else if (v == "mifare-classic")
        card.kind = TagKind::MifareClassic1k;
      else if (v == "iso14443-4")
        card.kind = TagKind::Iso14443_4;
      else
        return usage("unknown --chip " + v);
    } else if (a == "--mfd") {
      auto bytes = kb::readFile(value(), 1u << 20);
      if (!bytes) return usage(bytes.error().message);
      card.memory = *bytes;
    } else if (a == "--uid") {
      auto uid = kb::hexDecode(value());
      if (!uid) return usage("--uid wants hex");
      card.uid = *uid;
    } else if (a == "--signature") {
      auto sig = kb::hexDecode(value());
      if (!sig || sig->size() != 32) return usage("--signature wants 64 hex digits");
      card.signature = *sig;
    } else if (a == "--throttle") {
      options.throttle = true;
    } else if (a == "--trace") {
      options.trace = true;
    } else if (a == "--link") {
      link = value();
    } else if (a == "--no-card") {
      withCard = false;
    } else {
      return usage("unknown option " + a);
    }
  }
  auto emu = Pn532Emulator::start(options);
  if (!emu) {
    std::cerr << kb::formatError(emu.error()) << "\n";
    return 1;
  }
  if (!link.empty()) {
    std::error_code ec;
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink((*emu)->path(), link, ec);
    if (ec) return usage("--link: " + ec.message());
  }
  if (withCard) (*emu)->insert(card);
  std::cout << (*emu)->connstring() << std::endl;
  std::signal(SIGPIPE, SIG_IGN);
  for (std::string line; std::getline(std::cin, line);) {
    if (line == "insert")
      (*emu)->insert(card);
    else if (line == "remove")
      (*emu)->remove();
    else if (line == "unplug")
      (*emu)->unplug();
    else if (line == "quit")
      break;
    else if (!line.empty())
      std::cerr << "commands: insert | remove | unplug | quit\n";
  }
  // stdin closed: keep serving until killed, so `pn532-emulator </dev/null &` works.
  if (!std::cin) pause();
  return 0;
}
