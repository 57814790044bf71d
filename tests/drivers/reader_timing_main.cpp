// kb-reader-timing: how long the libnfc driver takes to read what the card check needs
// (GET_VERSION, pages 0-44, READ_SIG) from the PN532 emulator, against `nfc-mfultralight r`
// on the same emulated card as the baseline. Prints medians and p95 in milliseconds.
//   kb-reader-timing [--throttle] [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "drivers_test_util.h"
#include "libnfc/libnfc_reader.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Summary {
  double median = 0, p95 = 0;
};

Summary summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) {
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
  };
  return {at(0.5), at(0.95)};
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kb::test;
  bool throttle = false;
  int runs = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--throttle")
      throttle = true;
    else if (a == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else {
      std::cout << "usage: kb-reader-timing [--throttle] [--runs N]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  auto emu = Pn532Emulator::start(EmulatorOptions{.throttle = throttle});
  if (!emu) return 1;
  kb::reader::LibnfcReader reader(kb::reader::LibnfcOptions{.connstring = (*emu)->connstring()});
  if (!reader.open()) return 1;

  std::vector<double> tap, read;
  for (int i = 0; i < runs; ++i) {
    auto waiting = std::async(std::launch::async, [&] { return reader.waitForCard(5s); });
    std::this_thread::sleep_for(50ms);
    const auto placed = Clock::now();
    (*emu)->insert(ntag());
    auto card = waiting.get();
    const auto detected = Clock::now();
    auto pages = reader.readPages(0, 45);
    auto sig = reader.readSignature();
    const auto done = Clock::now();
    if (!card || !*card || !pages || !sig) {
      std::cerr << "run " << i << " failed\n";
      return 1;
    }
    tap.push_back(ms(done - placed));
    read.push_back(ms(done - detected));
    (*emu)->remove();
  }
  reader.close();

  std::vector<double> tool;
  TempDir dir;
  const std::string cmd = "cd '" + dir.path().string() + "' && LIBNFC_DEVICE='" +
                          (*emu)->connstring() +
                          "' LIBNFC_AUTO_SCAN=false nfc-mfultralight r dump.mfd >/dev/null 2>&1";
  (*emu)->insert(ntag());
  for (int i = 0; i < std::max(1, runs / 4); ++i) {
    const auto t0 = Clock::now();
    if (std::system(cmd.c_str()) != 0) {
      std::cerr << "nfc-mfultralight failed\n";
      break;
    }
    tool.push_back(ms(Clock::now() - t0));
  }
  const auto t = summarize(tap), r = summarize(read), b = summarize(tool);
  std::printf("emulator %s, %d runs (ms)\n", throttle ? "throttled to 115200 baud" : "unthrottled",
              runs);
  std::printf("  tap: card placed -> pages 0-44 + READ_SIG read   median %.1f  p95 %.1f\n",
              t.median, t.p95);
  std::printf("  read: select done -> pages 0-44 + READ_SIG read  median %.1f  p95 %.1f\n",
              r.median, r.p95);
  std::printf("  baseline: nfc-mfultralight r (whole process)     median %.1f  p95 %.1f\n",
              b.median, b.p95);
  return 0;
}
