// Faithfulness: Debian's libnfc tools read the emulated card correctly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/files.h"
#include "drivers_test_util.h"

namespace kb::test {
namespace {

std::optional<std::string> findTool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

struct RunResult {
  int status;
  std::string output;
};

// Runs a libnfc tool against one device only, never scanning other serial ports.
RunResult runTool(const std::string& connstring, const std::string& args,
                  const std::filesystem::path& cwd) {
  const std::string cmd = "cd '" + cwd.string() + "' && LIBNFC_DEVICE='" + connstring +
                          "' LIBNFC_AUTO_SCAN=false LIBNFC_INTRUSIVE_SCAN=false timeout 60 " +
                          args + " </dev/null 2>&1";
  RunResult r{-1, {}};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

std::string readAll(const std::filesystem::path& p) {
  auto bytes = readFile(p, 1u << 20);
  return bytes ? *bytes : std::string();
}

class LibnfcToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"nfc-list", "nfc-mfultralight"})
      ASSERT_TRUE(findTool(tool))
          << tool << " not installed (Debian package libnfc-bin; scripts/install-deps.sh)";
    auto e = Pn532Emulator::start();
    ASSERT_TRUE(e) << e.error().message;
    emu_ = std::move(*e);
  }
  std::unique_ptr<Pn532Emulator> emu_;
  TempDir dir_;
};

TEST_F(LibnfcToolsTest, NfcListShowsTheUid) {
  emu_->insert(ntag());
  const auto r = runTool(emu_->connstring(), "nfc-list", dir_.path());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("1 ISO14443A passive target(s) found"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("UID (NFCID1): 04  11  22  33  44  55  66"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("ATQA (SENS_RES): 00  44"), std::string::npos) << r.output;
}

TEST_F(LibnfcToolsTest, NfcListShowsAMifareClassic) {
  emu_->insert(EmulatedCard{TagKind::MifareClassic1k, std::string("\xde\xad\xbe\xef", 4), {}, {}});
  const auto r = runTool(emu_->connstring(), "nfc-list", dir_.path());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("UID (NFCID1): de  ad  be  ef"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("SAK (SEL_RES): 08"), std::string::npos) << r.output;
}

TEST_F(LibnfcToolsTest, NfcListWithoutCardFindsNothing) {
  const auto r = runTool(emu_->connstring(), "nfc-list", dir_.path());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("passive target(s) found"), std::string::npos) << r.output;
}

class MfultralightDump : public LibnfcToolsTest, public ::testing::WithParamInterface<TagKind> {};

TEST_P(MfultralightDump, DumpIsByteIdenticalToTheImage) {
  emu_->insert(ntag(GetParam()));
  const auto r = runTool(emu_->connstring(), "nfc-mfultralight r dump.mfd", dir_.path());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("04112233445566"), std::string::npos) << r.output;
  EXPECT_EQ(readAll(dir_.path() / "dump.mfd"), patternImage(GetParam())) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Ntag21x, MfultralightDump,
                         ::testing::Values(TagKind::Ntag213, TagKind::Ntag215, TagKind::Ntag216));

TEST_F(LibnfcToolsTest, MfultralightStopsWhenTheCardIsPulled) {
  emu_->insert(ntag());
  emu_->setFault(Fault::CardGoneAfterReads, 3);
  const auto r = runTool(emu_->connstring(), "nfc-mfultralight r dump.mfd", dir_.path());
  EXPECT_EQ(r.output.find("45 of 45 pages read"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace kb::test
