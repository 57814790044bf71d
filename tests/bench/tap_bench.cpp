// Tap-to-identity benchmark (issue 3, docs/PERFORMANCE.md): a Kartu Bahagia card is
// placed on the PN532 emulator and timed until its CardCheck is known, through the
// real libnfc pn532_uart driver, unthrottled and at 115200 baud wire time. The same
// run times `nfc-mfultralight r` (a full dump, libnfc-bin) on the same emulated card
// as the baseline, and `kbctl card read` when KBCTL (or KB_BINARY_DIR) points at it.
//
// usage: tap_bench [ITERATIONS]     (default 30; figures are wall-clock, for humans)

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "card/card_check.h"
#include "card/card_image.h"
#include "card/credential.h"
#include "card/originality.h"
#include "common/files.h"
#include "libnfc/libnfc_reader.h"
#include "pn532_emulator.h"
#include "trust/trust.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const std::string kUid("\x04\xa1\xb2\xc3\xd4\xe5\xf6", 7);

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Stats {
  double median = 0, p95 = 0, min = 0;
};

Stats stats(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1,
                      static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5))];
  };
  return {at(0.5), at(0.95), v.front()};
}

void print(const std::string& label, const std::vector<double>& samples) {
  if (samples.empty()) {
    std::printf("%-48s  (not measured)\n", label.c_str());
    return;
  }
  Stats s = stats(samples);
  std::printf("%-48s  median %8.1f ms   p95 %8.1f ms   min %8.1f ms   n=%zu\n", label.c_str(),
              s.median, s.p95, s.min, samples.size());
}

// Wall time of one shell command; negative if it failed.
double timeCommand(const std::string& cmd) {
  auto t0 = Clock::now();
  int rc = std::system(cmd.c_str());
  auto t1 = Clock::now();
  return rc == 0 ? ms(t1 - t0) : -1.0;
}

struct Setup {
  kb::trust::TrustRoot root;
  std::string image;
  std::string signature;
  std::vector<kb::card::OriginalityKey> keys;
  fs::path dir;
};

struct Figures {
  std::vector<double> tap;       // card placed -> verdict (reader open, polling)
  std::vector<double> identify;  // card selected -> verdict (reads + READ_SIG + checks)
  std::vector<double> baseline;  // nfc-mfultralight r, whole process
  std::vector<double> kbctl;     // kbctl card read --json, whole process
  int pages = 0;
};

bool runConfig(const Setup& setup, bool throttle, int iterations, const std::string& kbctl,
               Figures& out) {
  kb::test::EmulatorOptions options;
  options.throttle = throttle;
  auto emu = kb::test::Pn532Emulator::start(options);
  if (!emu) {
    std::cerr << "emulator: " << emu.error().message << '\n';
    return false;
  }
  const kb::test::EmulatedCard card{kb::test::TagKind::Ntag213, kUid, setup.image, setup.signature};
  {
    kb::reader::LibnfcOptions ro;
    ro.connstring = (*emu)->connstring();
    kb::reader::LibnfcReader reader(ro);
    if (auto opened = reader.open(); !opened) {
      std::cerr << "open: " << opened.error().message << '\n';
      return false;
    }
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> phase_us(0, 60'000);
    for (int i = 0; i < iterations; ++i) {
      (*emu)->remove();
      (void)reader.waitForCard(
          std::chrono::milliseconds(1));  // the reader has seen the empty field
      // The card lands at a random moment of the reader's polling cycle, as a hand does.
      Clock::time_point placed;
      std::thread hand([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(phase_us(rng)));
        placed = Clock::now();
        (*emu)->insert(card);
      });
      auto presence = reader.waitForCard(std::chrono::seconds(5));
      hand.join();
      if (!presence || !*presence) {
        std::cerr << "wait: " << (presence ? "no card within 5 s" : presence.error().message)
                  << '\n';
        return false;
      }
      const auto selected = Clock::now();
      auto tap = kb::card::identifyCard(reader, **presence, setup.root, setup.keys);
      const auto done = Clock::now();
      if (!tap || tap->verdict.check != kb::card::CardCheck::Genuine) {
        std::cerr << "identify failed: " << (tap ? tap->verdict.reason : tap.error().message)
                  << '\n';
        return false;
      }
      out.pages = tap->pages_read;
      out.tap.push_back(ms(done - placed));
      out.identify.push_back(ms(done - selected));
    }
    reader.close();
  }
  (*emu)->insert(card);
  const std::string env = "cd '" + setup.dir.string() +
                          "' && LIBNFC_AUTO_SCAN=false LIBNFC_INTRUSIVE_SCAN=false LIBNFC_DEVICE=" +
                          (*emu)->connstring() + " ";
  const bool have_tool = std::system("command -v nfc-mfultralight >/dev/null 2>&1") == 0;
  const int runs = std::max(3, iterations / 3);
  for (int i = 0; have_tool && i < runs; ++i) {
    double t = timeCommand(env + "nfc-mfultralight r dump.mfd </dev/null >/dev/null 2>&1");
    if (t >= 0) out.baseline.push_back(t);
  }
  for (int i = 0; !kbctl.empty() && i < runs; ++i) {
    double t = timeCommand(env + "'" + kbctl + "' card read --device " + (*emu)->connstring() +
                           " --root root.json --json --wait 5 >/dev/null 2>&1");
    if (t >= 0) out.kbctl.push_back(t);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 30;
  ::setenv("LIBNFC_AUTO_SCAN", "false", 1);
  ::setenv("LIBNFC_INTRUSIVE_SCAN", "false", 1);

  auto root_key = *kb::crypto::SigningKey::generate();
  auto card_key = *kb::crypto::SigningKey::generate();
  kb::trust::RootSpec spec;
  spec.expires = kb::nowSeconds() + 86400;
  spec.dev = true;
  spec.root_keys = {root_key.publicKey()};
  spec.snapshot_keys = {card_key.publicKey()};
  spec.card_keys = {card_key.publicKey()};
  const std::string root_text = kb::trust::makeRoot(spec, {root_key});
  auto root = kb::trust::TrustRoot::parse(root_text, kb::nowSeconds());
  auto credential =
      kb::card::issueCredential(card_key, "KB-1571-000123", kUid, kb::dayOf(kb::nowSeconds()));
  auto signer = kb::card::OriginalitySigningKey::generate();
  if (!root || !credential || !signer) {
    std::cerr << "setup failed\n";
    return 1;
  }
  auto image = kb::card::encodeCardImage(kb::reader::Chip::Ntag213, kUid, *credential);
  std::string tmpl = (fs::temp_directory_path() / "kb-tap-bench-XXXXXX").string();
  Setup setup{*root, *image, *signer->sign(kUid), {signer->publicKey()}, ::mkdtemp(tmpl.data())};
  if (!kb::writeFileAtomic(setup.dir / "root.json", root_text)) return 1;

  std::string kbctl;
  if (const char* k = std::getenv("KBCTL"))
    kbctl = k;
  else if (const char* b = std::getenv("KB_BINARY_DIR"))
    kbctl = std::string(b) + "/daemon/bin/kbctl/kbctl";
  if (!kbctl.empty() && !fs::exists(kbctl)) kbctl.clear();

  std::printf(
      "tap-to-identity, NTAG213 Kartu Bahagia card on the PN532 emulator via libnfc pn532_uart\n");
  for (bool throttle : {false, true}) {
    Figures f;
    if (!runConfig(setup, throttle, iterations, kbctl, f)) return 1;
    const std::string mode = throttle ? "115200 baud" : "unthrottled";
    std::printf(
        "\n[%s] credential read: %d pages (CC + NDEF TLV) + READ_SIG; full dump: 45 pages\n",
        mode.c_str(), f.pages);
    print("tap to identity (placed -> CardCheck)", f.tap);
    print("identify only (selected -> CardCheck)", f.identify);
    print("baseline: nfc-mfultralight r (process)", f.baseline);
    print("kbctl card read --json (process)", f.kbctl);
  }
  std::error_code ec;
  fs::remove_all(setup.dir, ec);
  return 0;
}
