#include "speech/speech.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/fd.h"
#include "roster/csv_reader.h"  // isValidUtf8

extern char** environ;

namespace kb::speech {

namespace {

std::uint32_t le32(std::string_view s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3])) << 24;
}
std::uint16_t le16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) |
                                    static_cast<unsigned char>(s[at + 1]) << 8);
}
void putLe32(std::string& s, std::size_t at, std::size_t v) {
  for (int i = 0; i < 4; ++i)
    s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Control characters (other than line breaks and tabs) become spaces: espeak-ng
// reads some of them as commands.
std::string cleanText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7F) c = ' ';
  }
  return out;
}

}  // namespace

bool knownLanguage(std::string_view lang) {
  return lang == "id" || lang == "en";
}

Result<WavInfo> inspectWav(std::string_view wav) {
  if (wav.size() < 44 || wav.substr(0, 4) != "RIFF" || wav.substr(8, 4) != "WAVE")
    return fail(Errc::Malformed, "not a RIFF/WAVE file");
  WavInfo info;
  std::size_t at = 12;
  std::string_view data;
  while (at + 8 <= wav.size()) {
    std::string_view id = wav.substr(at, 4);
    std::size_t size = le32(wav, at + 4);
    std::size_t body = at + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > wav.size()) return fail(Errc::Malformed, "short fmt chunk");
      if (le16(wav, body) != 1) return fail(Errc::Malformed, "not PCM");
      info.channels = le16(wav, body + 2);
      info.sample_rate = le32(wav, body + 4);
      info.bits = le16(wav, body + 14);
    } else if (id == "data") {
      data = wav.substr(body, std::min(size, wav.size() - body));
      break;
    }
    at = body + size + (size & 1);
  }
  if (info.sample_rate == 0 || info.channels == 0 || info.bits != 16)
    return fail(Errc::Malformed, "expected 16-bit PCM");
  const std::size_t frames = data.size() / (2u * info.channels);
  info.seconds = static_cast<double>(frames) / info.sample_rate;
  const std::size_t samples = data.size() / 2;  // 16-bit samples, all channels
  double sum = 0;
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
    auto v = static_cast<double>(static_cast<std::int16_t>(le16(data, i)));
    sum += v * v;
  }
  info.rms = samples > 0 ? std::sqrt(sum / static_cast<double>(samples)) : 0;
  return info;
}

Result<std::string> synthesize(std::string_view text, std::string_view lang,
                               const SpeechOptions& options) {
  if (!knownLanguage(lang)) return fail(Errc::Malformed, "language must be id or en");
  if (text.size() > options.max_text_bytes)
    return fail(Errc::TooLarge,
                "text is longer than " + std::to_string(options.max_text_bytes) + " bytes");
  if (!roster::isValidUtf8(text)) return fail(Errc::Malformed, "text is not valid UTF-8");
  const std::string input = cleanText(text);
  if (input.find_first_not_of(" \n\t") == std::string::npos)
    return fail(Errc::Malformed, "nothing to read");

  std::array<int, 2> in{-1, -1}, out{-1, -1};
  if (::pipe2(in.data(), O_CLOEXEC) != 0)
    return fail(Errc::Io, "pipe: " + std::string(std::strerror(errno)));
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out.data(), O_CLOEXEC) != 0)
    return fail(Errc::Io, "pipe: " + std::string(std::strerror(errno)));
  UniqueFd out_r(out[0]), out_w(out[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const std::string wpm = std::to_string(options.words_per_minute);
  const std::string voice(lang);
  std::vector<std::string> args = {options.command, "-v", voice, "-s", wpm, "-b", "1", "--stdout"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const bool path_lookup = options.command.find('/') == std::string::npos;
  int rc =
      path_lookup
          ? ::posix_spawnp(&pid, options.command.c_str(), &actions, nullptr, argv.data(), environ)
          : ::posix_spawn(&pid, options.command.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(Errc::Io, "cannot start " + options.command + ": " + std::strerror(rc));
  in_r.reset();
  out_w.reset();

  auto reap = [pid](bool kill_it) {
    if (kill_it) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };

  // The text is small (bounded above): one write fits the pipe, then EOF.
  std::size_t written = 0;
  while (written < input.size()) {
    ssize_t n = ::write(in_w.get(), input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      reap(true);
      return fail(Errc::Io, options.command + " did not take the text");
    }
    written += static_cast<std::size_t>(n);
  }
  in_w.reset();

  std::string wav;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::array<char, 65536> buf{};
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      reap(true);
      return fail(Errc::Timeout,
                  "speech took longer than " + std::to_string(options.timeout.count()) + " ms");
    }
    pollfd p{out_r.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;  // the deadline check above ends it
    ssize_t n = ::read(out_r.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reap(true);
      return fail(Errc::Io, "reading speech: " + std::string(std::strerror(errno)));
    }
    if (n == 0) break;
    wav.append(buf.data(), static_cast<std::size_t>(n));
    if (wav.size() > options.max_wav_bytes) {
      reap(true);
      return fail(Errc::TooLarge, "speech is longer than the audio limit");
    }
  }
  int status = reap(false);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail(Errc::Io, options.command + " failed");
  // Streamed to a pipe, espeak-ng cannot know the sizes: write them, so players know the length.
  if (wav.size() < 44 || wav.compare(0, 4, "RIFF") != 0 || wav.compare(36, 4, "data") != 0)
    return fail(Errc::Io, options.command + " wrote no WAV");
  putLe32(wav, 4, wav.size() - 8);
  putLe32(wav, 40, wav.size() - 44);
  return wav;
}

}  // namespace kb::speech
