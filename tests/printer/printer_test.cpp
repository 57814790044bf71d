#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "escpos_emulator.h"
#include "printer/escpos_printer.h"

namespace kb::printer {
namespace {

using kb::testing::EscposEmulator;
using namespace std::chrono_literals;

Slip demoSlip() {
  Slip s;
  s.title = "Kecelakaan kerja (JKK)";
  s.holder = "SIT* NUR******";
  s.summary = {"JKK: Terlindungi, berlaku sampai 15 Mei 2027",
               "JKN: Tidak terdaftar melalui Kartu Bahagia"};
  s.steps = {
      "Bila parah atau darurat: telepon 112 atau ambulans 119, atau langsung ke IGD terdekat.",
      "Laporkan kecelakaan ke BPJS Ketenagakerjaan dalam 2×24 jam dengan formulir tahap I.",
      "Periode 21 Nov 2026 – 31 Mar 2027"};
  s.footer = {"Call Center Bahagia 112", "Data per 1 Des 2026 08.00 WIB"};
  s.qr = "https://kartubahagia.jambikota.go.id/panduan/jkk?lang=id";
  s.qr_caption = "Pindai untuk panduan ini di ponsel.";
  return s;
}

std::vector<kb::testing::PrintedJob> waitJobs(const EscposEmulator& e, std::size_t n) {
  for (int i = 0; i < 200 && e.jobs().size() < n; ++i) std::this_thread::sleep_for(10ms);
  return e.jobs();
}

bool hasLine(const std::vector<std::string>& lines, std::string_view needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

TEST(Printer, PrintsTextQrAndCutThatTheEmulatorDecodes) {
  auto emu = EscposEmulator::start();
  ASSERT_TRUE(emu);
  PrinterOptions o;
  o.device = emu->device();
  o.columns = 42;
  auto r = printSlip(demoSlip(), o);
  ASSERT_TRUE(r) << r.error().message;
  auto jobs = waitJobs(*emu, 1);
  ASSERT_EQ(jobs.size(), 1u);
  const auto& job = jobs[0];
  EXPECT_TRUE(job.initialised);
  EXPECT_EQ(job.cuts, 1);
  ASSERT_EQ(job.qr.size(), 1u);
  EXPECT_EQ(job.qr[0], "https://kartubahagia.jambikota.go.id/panduan/jkk?lang=id");
  EXPECT_TRUE(hasLine(job.lines, "SIT* NUR******"));
  EXPECT_TRUE(hasLine(job.lines, "1. Bila parah atau darurat"));
  EXPECT_TRUE(hasLine(job.lines, "2x24 jam")) << "× printed as x";
  EXPECT_TRUE(hasLine(job.lines, "21 Nov 2026 - 31 Mar 2027")) << "en dash printed as -";
  EXPECT_TRUE(hasLine(job.bold_lines, "Call Center Bahagia 112"));
  EXPECT_TRUE(hasLine(job.bold_lines, "Data per 1 Des 2026 08.00 WIB"));
  for (const auto& l : job.lines) {
    EXPECT_LE(l.size(), 42u) << l;
    EXPECT_TRUE(std::all_of(l.begin(), l.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) << l;
  }
}

TEST(Printer, AOneWayPrinterThatNeverAnswersStillPrints) {
  auto emu = EscposEmulator::start(EscposEmulator::Mode::Silent);
  ASSERT_TRUE(emu);
  PrinterOptions o;
  o.device = emu->device();
  o.status_timeout = 200ms;
  ASSERT_TRUE(printSlip(demoSlip(), o));
  EXPECT_EQ(waitJobs(*emu, 1).size(), 1u);
}

TEST(Printer, PaperOutIsReportedAndNothingIsSent) {
  auto emu = EscposEmulator::start(EscposEmulator::Mode::PaperOut);
  ASSERT_TRUE(emu);
  PrinterOptions o;
  o.device = emu->device();
  auto r = printSlip(demoSlip(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, PrintError::PaperOut);
  EXPECT_EQ(printErrorName(r.error().kind), "paper_out");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(emu->jobs().empty());
  EXPECT_EQ(emu->pendingLines(), 0u);
}

TEST(Printer, UnpluggedOrMissingPrinterIsReported) {
  PrinterOptions none;
  EXPECT_EQ(printSlip(demoSlip(), none).error().kind, PrintError::Unplugged);
  PrinterOptions missing;
  missing.device = "/dev/usb/lp-does-not-exist";
  EXPECT_EQ(printSlip(demoSlip(), missing).error().kind, PrintError::Unplugged);

  auto emu = EscposEmulator::start();
  ASSERT_TRUE(emu);
  PrinterOptions o;
  o.device = emu->device();
  emu->unplug();
  auto r = printSlip(demoSlip(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, PrintError::Unplugged) << r.error().message;
}

TEST(Printer, ASlowPrinterIsGivenUpOnAtTheJobTimeout) {
  auto emu = EscposEmulator::start(EscposEmulator::Mode::Slow, 1500ms);
  ASSERT_TRUE(emu);
  PrinterOptions o;
  o.device = emu->device();
  o.job_timeout = 800ms;  // the paper answer comes at once, the confirmation too late
  auto r = printSlip(demoSlip(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, PrintError::Slow) << r.error().message;
}

TEST(Printer, RenderWrapsLongWordsAndKeepsAscii) {
  Slip s;
  s.title = "x";
  s.steps = {std::string(100, 'a') + " b"};
  const std::string bytes = renderSlip(s, 32);
  EXPECT_EQ(bytes.substr(0, 2), "\x1B@");
  EXPECT_NE(bytes.find(std::string(29, 'a') + "\n"), std::string::npos);  // "1. " + 29
  EXPECT_EQ(toPrinterText("Rp5 juta – 2×24 jam · café"), "Rp5 juta - 2x24 jam - cafe");
}

}  // namespace
}  // namespace kb::printer
