#include "escpos_emulator.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

namespace kb::testing {

std::unique_ptr<EscposEmulator> EscposEmulator::start(Mode mode,
                                                      std::chrono::milliseconds slow_by) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    if (master >= 0) ::close(master);
    return nullptr;
  }
  const char* name = ::ptsname(master);
  if (!name) {
    ::close(master);
    return nullptr;
  }
  termios tio{};
  if (::tcgetattr(master, &tio) == 0) {
    ::cfmakeraw(&tio);
    ::tcsetattr(master, TCSANOW, &tio);
  }
  return std::unique_ptr<EscposEmulator>(new EscposEmulator(master, name, mode, slow_by));
}

EscposEmulator::EscposEmulator(int master, std::string device, Mode mode,
                               std::chrono::milliseconds slow_by)
    : master_(master), device_(std::move(device)), mode_(mode), slow_by_(slow_by) {
  thread_ = std::thread([this] { run(); });
}

EscposEmulator::~EscposEmulator() {
  unplug();
}

void EscposEmulator::unplug() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  ::close(master_);
}

std::vector<PrintedJob> EscposEmulator::jobs() const {
  std::lock_guard lock(mu_);
  return done_;
}

std::size_t EscposEmulator::pendingLines() const {
  std::lock_guard lock(mu_);
  return current_.lines.size() + (line_.empty() ? 0 : 1);
}

void EscposEmulator::answer(unsigned char byte, bool job_done) {
  if (mode_ == Mode::Silent) return;
  // Slow: alive (the paper question is answered at once) but slow to finish a slip.
  if (mode_ == Mode::Slow && job_done) std::this_thread::sleep_for(slow_by_);
  (void)!::write(master_, &byte, 1);
}

void EscposEmulator::run() {
  char buf[4096];
  while (!stop_) {
    pollfd p{master_, POLLIN, 0};
    int r = ::poll(&p, 1, 50);
    if (r <= 0 || !(p.revents & POLLIN)) continue;
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) continue;
    buffer_.append(buf, static_cast<std::size_t>(n));
    std::size_t at = 0;
    feed(buffer_, at);
    buffer_.erase(0, at);
  }
}

// Consumes complete commands from `bytes` starting at `at`; stops before an incomplete one.
void EscposEmulator::feed(const std::string& bytes, std::size_t& at) {
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  while (at < bytes.size()) {
    const unsigned char c = u(at);
    const std::size_t left = bytes.size() - at;
    if (c == 0x10) {  // DLE EOT n: real-time status
      if (left < 3) return;
      const unsigned char n = u(at + 2);
      at += 3;
      unsigned char status = 0x12;                           // fixed bits 1 and 4: all well
      if (n == 4 && mode_ == Mode::PaperOut) status = 0x72;  // paper end (bits 5, 6)
      answer(status, n == 1);
      continue;
    }
    if (c == 0x1B) {  // ESC
      if (left < 2) return;
      const unsigned char cmd = u(at + 1);
      if (cmd == '@') {
        std::lock_guard lock(mu_);
        current_ = PrintedJob{};
        current_.initialised = true;
        line_.clear();
        at += 2;
        continue;
      }
      if (left < 3) return;
      if (cmd == 'E') bold_ = u(at + 2) != 0;
      at += 3;  // ESC E n, ESC a n, ESC t n, ...
      continue;
    }
    if (c == 0x1D) {  // GS
      if (left < 2) return;
      const unsigned char cmd = u(at + 1);
      if (cmd == '(') {  // GS ( k pL pH cn fn ...
        if (left < 5) return;
        const std::size_t len = u(at + 3) | static_cast<std::size_t>(u(at + 4)) << 8;
        if (left < 5 + len) return;
        const std::string body = bytes.substr(at + 5, len);
        at += 5 + len;
        if (body.size() >= 2 && static_cast<unsigned char>(body[0]) == 49) {
          const unsigned char fn = static_cast<unsigned char>(body[1]);
          if (fn == 80 && body.size() >= 3) stored_qr_ = body.substr(3);
          if (fn == 81) {
            std::lock_guard lock(mu_);
            current_.qr.push_back(stored_qr_);
          }
        }
        continue;
      }
      if (cmd == 'V') {  // GS V m [n]
        if (left < 3) return;
        const unsigned char m = u(at + 2);
        const bool with_n = m == 65 || m == 66;
        if (with_n && left < 4) return;
        at += with_n ? 4 : 3;
        std::lock_guard lock(mu_);
        if (!line_.empty()) current_.lines.push_back(std::move(line_)), line_.clear();
        ++current_.cuts;
        done_.push_back(std::move(current_));
        current_ = PrintedJob{};
        continue;
      }
      at += 3;  // other GS x n
      continue;
    }
    ++at;
    std::lock_guard lock(mu_);
    if (c == '\n') {
      if (bold_) current_.bold_lines.push_back(line_);
      current_.lines.push_back(std::move(line_));
      line_.clear();
    } else {
      line_ += static_cast<char>(c);
    }
  }
}

}  // namespace kb::testing
