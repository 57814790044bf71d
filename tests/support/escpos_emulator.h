#pragma once
/// An ESC/POS receipt printer on a pty, for tests: it decodes what it is sent
/// (text lines, bold lines, QR codes stored and printed, cuts) and answers
/// DLE EOT status requests as a real printer does, or as one that is out of
/// paper, slow to confirm a slip (DLE EOT 1 answered late), or never answers
/// (a one-way USB printer).

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kb::testing {

struct PrintedJob {
  std::vector<std::string> lines;       ///< text, one entry per printed line
  std::vector<std::string> bold_lines;  ///< the lines printed in bold
  std::vector<std::string> qr;          ///< data of each QR code printed
  int cuts = 0;
  bool initialised = false;  ///< began with ESC @
};

class EscposEmulator {
 public:
  enum class Mode { Normal, PaperOut, Slow, Silent };

  /// Opens the pty; nullptr if that fails.
  static std::unique_ptr<EscposEmulator> start(
      Mode mode = Mode::Normal, std::chrono::milliseconds slow_by = std::chrono::seconds(3));
  ~EscposEmulator();

  /// The device path to give the printer driver (the pty's slave side).
  const std::string& device() const { return device_; }
  /// Jobs finished by a cut so far.
  std::vector<PrintedJob> jobs() const;
  /// Bytes received that were not part of a finished job (e.g. text before a refused job).
  std::size_t pendingLines() const;
  /// Unplugs it: closes the pty, the device disappears.
  void unplug();

 private:
  EscposEmulator(int master, std::string device, Mode mode, std::chrono::milliseconds slow_by);
  void run();
  void feed(const std::string& bytes, std::size_t& at);
  void answer(unsigned char byte, bool job_done);

  int master_;
  std::string device_;
  Mode mode_;
  std::chrono::milliseconds slow_by_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<PrintedJob> done_;
  PrintedJob current_;
  std::string line_;
  bool bold_ = false;
  std::string stored_qr_;
  std::string buffer_;
  std::thread thread_;
};

}  // namespace kb::testing
