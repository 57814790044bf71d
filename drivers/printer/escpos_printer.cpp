#include "printer/escpos_printer.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/fd.h"

namespace kb::printer {

namespace {

// The ASCII names the ESC/POS manual writes its commands with ("GS ( k").
// NOLINTBEGIN(readability-identifier-naming)
constexpr char ESC = 0x1B;
constexpr char GS = 0x1D;
constexpr char DLE = 0x10;
constexpr char EOT = 0x04;
// NOLINTEND(readability-identifier-naming)

using Clock = std::chrono::steady_clock;

std::vector<std::string> wrap(const std::string& text, unsigned columns) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = text.find(' ', i);
    std::string word = text.substr(i, j == std::string::npos ? std::string::npos : j - i);
    i = j == std::string::npos ? text.size() : j + 1;
    while (word.size() > columns) {  // a word longer than the paper: cut it
      if (!line.empty()) lines.push_back(std::move(line)), line.clear();
      lines.push_back(word.substr(0, columns));
      word.erase(0, columns);
    }
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > columns)
      lines.push_back(std::move(line)), line.clear();
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

void text(std::string& out, const std::string& utf8, unsigned columns,
          const std::string& indent = "") {
  const unsigned width =
      columns > indent.size() + 8 ? columns - static_cast<unsigned>(indent.size()) : columns;
  bool first = true;
  for (const auto& l : wrap(toPrinterText(utf8), width)) {
    out += (first ? indent : std::string(indent.size(), ' ')) + l + "\n";
    first = false;
  }
}

void bold(std::string& out, bool on) {
  out += {ESC, 'E', static_cast<char>(on ? 1 : 0)};
}

void qr(std::string& out, const std::string& data) {
  auto command = [&](char cn, char fn, std::string body) {
    const std::size_t len = body.size() + 2;
    out +=
        {GS, '(', 'k', static_cast<char>(len & 0xFF), static_cast<char>((len >> 8) & 0xFF), cn, fn};
    out += body;
  };
  command(49, 65, std::string{50, 0});      // model 2
  command(49, 67, std::string{6});          // module size 6 dots
  command(49, 69, std::string{49});         // error correction M
  command(49, 80, std::string{48} + data);  // store the data
  command(49, 81, std::string{48});         // print it
}

std::expected<void, PrintFailure> failure(PrintError kind, std::string message) {
  return std::unexpected(PrintFailure{kind, std::move(message)});
}

// Writes everything before the deadline, or says why not.
std::expected<void, PrintFailure> writeAll(int fd, std::string_view data,
                                           Clock::time_point deadline) {
  std::size_t done = 0;
  while (done < data.size()) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return failure(PrintError::Slow, "the printer does not take the slip");
    pollfd p{fd, POLLOUT, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
      return failure(PrintError::Unplugged, "the printer went away");
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return failure(PrintError::Unplugged, std::string("write: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// One real-time status byte (DLE EOT n), or nullopt when none comes in time.
std::optional<unsigned char> status(int fd, char n, std::chrono::milliseconds timeout, bool& gone) {
  gone = false;
  if (!writeAll(fd, std::string{DLE, EOT, n}, Clock::now() + timeout)) {
    gone = true;
    return std::nullopt;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return std::nullopt;
    if (p.revents & POLLIN) {
      unsigned char b = 0;
      ssize_t got = ::read(fd, &b, 1);
      if (got == 1) return b;
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    }
    gone = true;  // hang-up or error
    return std::nullopt;
  }
}

}  // namespace

std::string toPrinterText(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += c < 0x20 && c != '\n' ? ' ' : static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    std::string_view ch = s.substr(i, n);
    i += n;
    if (ch == "\u2013" || ch == "\u2014" || ch == "\u2212" || ch == "\u00B7" || ch == "\u2022")
      out += '-';
    else if (ch == "\u00D7")
      out += 'x';
    else if (ch == "\u2026")
      out += "...";
    else if (ch == "\u2018" || ch == "\u2019")
      out += '\'';
    else if (ch == "\u201C" || ch == "\u201D")
      out += '"';
    else if (ch == "\u00E9" || ch == "\u00E8" || ch == "\u00EB")
      out += 'e';
    else if (ch == "\u00C9")
      out += 'E';
    else if (ch == "\u00E1" || ch == "\u00E0" || ch == "\u00E2")
      out += 'a';
    else if (ch == "\u00F6" || ch == "\u00F3")
      out += 'o';
    else if (ch == "\u00FC" || ch == "\u00FA")
      out += 'u';
    else if (ch == "\u00A0")
      out += ' ';
    else
      out += '?';
  }
  return out;
}

std::string renderSlip(const Slip& slip, unsigned columns) {
  std::string out{ESC, '@'};  // initialise
  out += {ESC, 'a', 1};       // centred
  bold(out, true);
  text(out, "Kartu Bahagia - Kota Jambi", columns);
  bold(out, false);
  text(out, slip.title, columns);
  out += {ESC, 'a', 0};  // left
  out += std::string(columns, '-') + "\n";
  if (!slip.holder.empty()) text(out, slip.holder, columns);
  for (const auto& l : slip.summary) text(out, l, columns, "- ");
  out += std::string(columns, '-') + "\n";
  int n = 0;
  for (const auto& s : slip.steps) text(out, s, columns, std::to_string(++n) + ". ");
  out += std::string(columns, '-') + "\n";
  bold(out, true);
  for (const auto& l : slip.footer) text(out, l, columns);
  bold(out, false);
  if (!slip.qr.empty()) {
    out += {ESC, 'a', 1};
    qr(out, slip.qr);
    text(out, slip.qr_caption, columns);
    out += {ESC, 'a', 0};
  }
  out += {GS, 'V', 66, 3};  // feed 3 lines and cut (partial)
  return out;
}

std::string_view printErrorName(PrintError e) {
  switch (e) {
    case PrintError::Unplugged:
      return "unplugged";
    case PrintError::PaperOut:
      return "paper_out";
    case PrintError::Slow:
      return "slow";
    case PrintError::Failed:
      return "failed";
  }
  return "failed";
}

std::expected<void, PrintFailure> printSlip(const Slip& slip, const PrinterOptions& options) {
  if (options.device.empty()) return failure(PrintError::Unplugged, "no printer configured");
  const auto deadline = Clock::now() + options.job_timeout;
  UniqueFd fd{::open(options.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)};
  if (fd.get() < 0)
    return failure(PrintError::Unplugged, options.device + ": " + std::strerror(errno));
  if (::isatty(fd.get())) {  // a serial printer (or the test pty): raw bytes, no echo
    termios tio{};
    if (::tcgetattr(fd.get(), &tio) == 0) {
      ::cfmakeraw(&tio);
      ::tcsetattr(fd.get(), TCSANOW, &tio);
    }
  }
  // Paper first: DLE EOT 4 answers the roll sensor; bits 5 and 6 set = paper end.
  bool gone = false;
  auto paper = status(fd.get(), 4, options.status_timeout, gone);
  if (gone) return failure(PrintError::Unplugged, "the printer does not answer");
  if (paper && (*paper & 0x60) == 0x60) return failure(PrintError::PaperOut, "paper out");
  if (auto r = writeAll(fd.get(), renderSlip(slip, options.columns), deadline); !r) return r;
  // A one-way printer (no answer to the paper question) cannot confirm: the slip is sent.
  if (!paper) return {};
  // Confirmation: the printer answers its status (DLE EOT 1) once it has taken the slip.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return failure(PrintError::Slow, "the printer is too slow");
  auto done = status(fd.get(), 1, left, gone);
  if (gone) return failure(PrintError::Unplugged, "the printer went away");
  if (!done && paper)
    return failure(PrintError::Slow, "the printer did not confirm the slip in time");
  if (done && (*done & 0x08)) return failure(PrintError::Failed, "the printer reports an error");
  return {};
}

}  // namespace kb::printer
