#pragma once
/// Text read aloud on the kiosk, offline: espeak-ng (Debian's, with its
/// Indonesian voice "id") runs as a bounded child process, text on its stdin,
/// a WAV on its stdout. Only what the screen shows is ever passed in; the text
/// is never logged or kept.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace kb::speech {

struct SpeechOptions {
  std::string command = "espeak-ng";  ///< looked up on PATH unless it holds a '/'
  std::chrono::milliseconds timeout{15000};
  std::size_t max_text_bytes = 2000;  ///< one screen section at a time
  std::size_t max_wav_bytes = 16u << 20;
  int words_per_minute = 140;  ///< a little slower than espeak's 175: elderly listeners
};

/// The voices the kiosk speaks: "id" (Bahasa Indonesia) and "en".
bool knownLanguage(std::string_view lang);

/// A WAV (RIFF, PCM 16-bit mono) of `text` spoken in `lang`.
/// MALFORMED: empty text, invalid UTF-8 or an unknown language; TOO_LARGE: text or
/// audio over the limits; IO: espeak-ng missing or failing; TIMEOUT: slower than
/// the timeout (the child is killed).
Result<std::string> synthesize(std::string_view text, std::string_view lang,
                               const SpeechOptions& options = {});

/// What a WAV holds, read from its header and samples (for checks and tests).
struct WavInfo {
  std::uint32_t sample_rate = 0;
  std::uint16_t channels = 0;
  std::uint16_t bits = 0;
  double seconds = 0;
  double rms = 0;  ///< root mean square of the samples, 0..32767
};
Result<WavInfo> inspectWav(std::string_view wav);

}  // namespace kb::speech
