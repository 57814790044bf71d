// escpos-emulator [--mode normal|paper-out|slow|silent]: an ESC/POS receipt printer on
// a pty for end-to-end tests. Prints the device path on the first line of stdout, then
// one JSON line per slip it has printed (text lines, bold lines, QR data, cuts).
// Runs until stdin closes.

#include <poll.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "escpos_emulator.h"

int main(int argc, char** argv) {
  using kb::testing::EscposEmulator;
  EscposEmulator::Mode mode = EscposEmulator::Mode::Normal;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help") {
      std::cout << "usage: escpos-emulator [--mode normal|paper-out|slow|silent]\n";
      return 0;
    }
    if (a == "--mode" && i + 1 < argc) {
      std::string_view m = argv[++i];
      mode = m == "paper-out" ? EscposEmulator::Mode::PaperOut
             : m == "slow"    ? EscposEmulator::Mode::Slow
             : m == "silent"  ? EscposEmulator::Mode::Silent
                              : EscposEmulator::Mode::Normal;
      continue;
    }
    std::cerr << "error: USAGE: unknown argument " << a << '\n';
    return 2;
  }
  auto emu = EscposEmulator::start(mode, std::chrono::seconds(20));
  if (!emu) {
    std::cerr << "error: IO: cannot open a pty\n";
    return 1;
  }
  std::cout << emu->device() << std::endl;
  std::size_t reported = 0;
  for (;;) {
    pollfd p{0, POLLIN, 0};
    int r = ::poll(&p, 1, 50);
    if (r > 0) {
      char c;
      if (::read(0, &c, 1) <= 0) break;  // stdin closed: the test is done
    }
    auto jobs = emu->jobs();
    for (; reported < jobs.size(); ++reported) {
      const auto& j = jobs[reported];
      std::cout << nlohmann::json{{"lines", j.lines},
                                  {"bold", j.bold_lines},
                                  {"qr", j.qr},
                                  {"cuts", j.cuts},
                                  {"initialised", j.initialised}}
                       .dump()
                << std::endl;
    }
  }
  return 0;
}
