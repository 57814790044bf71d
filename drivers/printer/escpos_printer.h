#pragma once
/// A receipt slip on an ESC/POS printer (USB /dev/usb/lp*, or a serial port):
/// text, a QR code and a cut. Printing is bounded in time and reports paper out,
/// an unplugged printer and a slow one as typed errors, so the kiosk can say so
/// calmly and carry on; callers run it off the kiosk's own thread.

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace kb::printer {

/// What goes on the slip: only what the screen shows, the holder's name masked.
struct Slip {
  std::string title;                 ///< e.g. "Kecelakaan kerja (JKK)"
  std::string holder;                ///< masked name, e.g. "SIT* NUR******"
  std::vector<std::string> summary;  ///< one line per programme
  std::vector<std::string> steps;    ///< the chosen guidance's steps
  std::vector<std::string> footer;   ///< "Call Center Bahagia 112", the data's date, ...
  std::string qr;                    ///< public guidance URL (no personal data)
  std::string qr_caption;
};

struct PrinterOptions {
  std::string device;     ///< /dev/usb/lp0, /dev/ttyUSB0, a pty in tests
  unsigned columns = 42;  ///< characters per line (80 mm paper, font A: 48; 58 mm: 32)
  std::chrono::milliseconds status_timeout{800};  ///< wait for a status answer
  std::chrono::milliseconds job_timeout{8000};    ///< the whole slip, written and confirmed
};

/// The ESC/POS bytes of a slip: init, text (ASCII, wrapped to `columns`), QR code
/// (GS ( k, model 2, error level M), feed and partial cut.
std::string renderSlip(const Slip& slip, unsigned columns);

/// Why a slip was not printed. The printer's own status is asked first (DLE EOT 4,
/// paper sensor) and after the slip (DLE EOT 1): a printer that answers neither in
/// time is Slow; one that cannot be opened or written is Unplugged.
enum class PrintError { Unplugged, PaperOut, Slow, Failed };
struct PrintFailure {
  PrintError kind;
  std::string message;
};
/// Prints a slip within options.job_timeout, never longer.
std::expected<void, PrintFailure> printSlip(const Slip& slip, const PrinterOptions& options);

/// "unplugged", "paper_out", "slow", "failed": the code the kiosk API reports.
std::string_view printErrorName(PrintError e);

/// Text as a receipt printer without code pages prints it: ASCII only
/// (en dash -> '-', × -> 'x', letters with accents without them, the rest '?').
std::string toPrinterText(std::string_view utf8);

}  // namespace kb::printer
