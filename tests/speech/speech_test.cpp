#include "speech/speech.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace kb::speech {
namespace {

const char* const kIndonesian =
    "Anda terlindungi hari ini. Jaminan Kecelakaan Kerja berlaku sampai tiga puluh satu "
    "Desember. Telepon Call Center Bahagia satu satu dua.";

// What espeak-ng itself writes for `text` with `voice`: the reference a WAV is compared with.
std::string espeakReference(const std::string& text, const std::string& voice) {
  const auto file = std::filesystem::temp_directory_path() / ("kb-speech-ref-" + voice + ".txt");
  std::ofstream(file) << text;
  const std::string cmd =
      "espeak-ng -v " + voice + " -s 140 -b 1 --stdout -f " + file.string() + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  std::string out;
  std::array<char, 65536> buf{};
  for (std::size_t n; pipe && (n = std::fread(buf.data(), 1, buf.size(), pipe.get())) > 0;)
    out.append(buf.data(), n);
  std::filesystem::remove(file);
  return out;
}

TEST(Speech, IndonesianTextBecomesARealWavInTheIndonesianVoice) {
  auto wav = synthesize(kIndonesian, "id");
  ASSERT_TRUE(wav) << wav.error().message;
  auto info = inspectWav(*wav);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->channels, 1);
  EXPECT_EQ(info->bits, 16);
  EXPECT_EQ(info->sample_rate, 22050u);
  // 21 words at 140 words a minute: about 9 s; a real voice is neither instant nor endless.
  EXPECT_GT(info->seconds, 4.0);
  EXPECT_LT(info->seconds, 25.0);
  EXPECT_GT(info->rms, 500.0) << "not silent";
  // The header carries the real sizes (espeak-ng streaming to a pipe cannot).
  EXPECT_EQ(static_cast<unsigned char>((*wav)[4]) | static_cast<unsigned char>((*wav)[5]) << 8 |
                static_cast<unsigned char>((*wav)[6]) << 16 |
                static_cast<unsigned char>((*wav)[7]) << 24,
            wav->size() - 8);
  // The right language: the samples are exactly espeak-ng's Indonesian voice, not its English one.
  const std::string id_ref = espeakReference(kIndonesian, "id");
  const std::string en_ref = espeakReference(kIndonesian, "en");
  ASSERT_GT(id_ref.size(), 44u);
  EXPECT_EQ(wav->substr(44), id_ref.substr(44));
  EXPECT_NE(wav->substr(44), en_ref.substr(44));
}

TEST(Speech, EnglishUsesTheEnglishVoice) {
  const std::string text = "You are covered today. Call one one two.";
  auto wav = synthesize(text, "en");
  ASSERT_TRUE(wav) << wav.error().message;
  EXPECT_EQ(wav->substr(44), espeakReference(text, "en").substr(44));
  EXPECT_GT(inspectWav(*wav)->rms, 500.0);
}

TEST(Speech, BadInputIsATypedError) {
  EXPECT_EQ(synthesize("halo", "fr").error().code, Errc::Malformed);
  EXPECT_EQ(synthesize("", "id").error().code, Errc::Malformed);
  EXPECT_EQ(synthesize(" \n\t", "id").error().code, Errc::Malformed);
  EXPECT_EQ(synthesize("\xC3\x28", "id").error().code, Errc::Malformed);
  EXPECT_EQ(synthesize(std::string(2001, 'a'), "id").error().code, Errc::TooLarge);
  // Control characters never reach espeak-ng as commands.
  auto wav = synthesize("halo\x01\x1b dunia", "id");
  ASSERT_TRUE(wav) << wav.error().message;
}

TEST(Speech, AMissingOrFailingOrHangingSynthesiserIsBounded) {
  SpeechOptions missing;
  missing.command = "/nonexistent/espeak-ng";
  EXPECT_EQ(synthesize("halo", "id", missing).error().code, Errc::Io);

  SpeechOptions failing;
  failing.command = "false";
  EXPECT_EQ(synthesize("halo", "id", failing).error().code, Errc::Io);

  // A synthesiser that never answers is killed at the timeout.
  const auto script = std::filesystem::temp_directory_path() / "kb-speech-hang.sh";
  std::ofstream(script) << "#!/bin/sh\nexec sleep 30\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  SpeechOptions hanging;
  hanging.command = script.string();
  hanging.timeout = std::chrono::milliseconds(300);
  EXPECT_EQ(synthesize("halo", "id", hanging).error().code, Errc::Timeout);

  // One that never stops talking is cut at the audio limit.
  SpeechOptions small;
  small.max_wav_bytes = 1000;
  EXPECT_EQ(synthesize(kIndonesian, "id", small).error().code, Errc::TooLarge);
  std::filesystem::remove(script);
}

TEST(Speech, InspectRejectsWhatIsNotAWav) {
  EXPECT_FALSE(inspectWav("RIFF"));
  EXPECT_FALSE(inspectWav(std::string(64, 'x')));
}

}  // namespace
}  // namespace kb::speech
