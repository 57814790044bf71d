// Data by USB stick, end to end without USB hardware: a directory laid out as a
// stick (signed bundles, or a whole mirror directory with timestamp.json) is
// imported by the real `kbctl import-usb`, the command the packaged unit runs.
// Good data is imported; an older serial and a tampered bundle are refused with
// a typed code while the old cache keeps serving, and every result is written
// where the kiosk reads it. Then the packaged script itself mounts a loop-device
// image read-only, imports from it and unmounts (root and loop devices needed:
// skipped with the reason otherwise).

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cache/cache.h"
#include "common/error.h"
#include "common/files.h"
#include "fixtures.h"
#include "publisher.h"
#include "sync/usb.h"

namespace kb::sync {
namespace {

using cache::testing::TempDir;
using testing::Publisher;
namespace fs = std::filesystem;

struct Exec {
  int status = -1;
  std::string out;
};

Exec run(const std::string& cmd) {
  Exec r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string kbctl() {
  return std::string(std::getenv("KB_BINARY_DIR")) + "/daemon/bin/kbctl/kbctl";
}

class UsbImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pub_ = std::make_unique<Publisher>(base_.path() / "publisher");
    fs::create_directories(state_);
    root_ = base_.path() / "root.json";
    cache::testing::writeFile(root_, pub_->root.text());
  }

  // kbctl import-usb DIR with the kiosk's paths; the result document it wrote.
  std::pair<Exec, nlohmann::json> importStick(const fs::path& stick) {
    auto r =
        run(kbctl() + " import-usb --json --tpm-tcti none --db " + (state_ / "cache.db").string() +
            " --root " + root_.string() + " --state-dir " + state_.string() + " " + stick.string());
    auto text = readFile(usbResultPath(state_), 1 << 16);
    return {r, text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json()};
  }

  std::int64_t serving() {
    auto c = cache::Cache::open(state_ / "cache.db", pub_->root, nowSeconds());
    auto info = c.info(nowSeconds());
    return info.serving && info.snapshot ? info.snapshot->serial : 0;
  }

  fs::path stick(const std::string& name) {
    auto d = base_.path() / name;
    fs::create_directories(d);
    return d;
  }

  // The packaged script on a loop device holding a `type` filesystem (below).
  void packagedScriptMountsReadOnlyImportsAndUnmounts(const std::string& type);

  TempDir base_;
  std::unique_ptr<Publisher> pub_;
  fs::path state_ = base_.path() / "state";
  fs::path root_;
};

TEST_F(UsbImportTest, BundlesOnAStickAreImportedWithTheMirrorsChecks) {
  pub_->publish(1);
  pub_->publish(2);
  // A stick with two snapshots: the newest is imported.
  auto good = stick("good");
  fs::copy_file(pub_->dir / snapshotName(1), good / snapshotName(1));
  fs::copy_file(pub_->dir / snapshotName(2), good / snapshotName(2));
  auto [r, doc] = importStick(good);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(doc["outcome"], "imported") << doc.dump();
  EXPECT_EQ(doc["layout"], "bundle");
  EXPECT_EQ(doc["serial"], 2);
  EXPECT_EQ(doc["file"], snapshotName(2));
  EXPECT_TRUE(doc["code"].is_null());
  EXPECT_TRUE(doc["at"].is_string());
  EXPECT_EQ(serving(), 2);

  // An older serial (in the kartu-bahagia/ folder of a stick): ROLLBACK, serial 2 serves.
  auto old = stick("old");
  fs::create_directories(old / "kartu-bahagia");
  fs::copy_file(pub_->dir / snapshotName(1), old / "kartu-bahagia" / snapshotName(1));
  std::tie(r, doc) = importStick(old);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("ROLLBACK"), std::string::npos) << r.out;
  EXPECT_EQ(doc["outcome"], "refused") << doc.dump();
  EXPECT_EQ(doc["code"], "ROLLBACK");
  EXPECT_EQ(serving(), 2);

  // A bundle whose signed bytes were changed: refused with a typed code, serial 2 serves.
  pub_->publish(3);
  auto bad = stick("bad");
  auto bytes = *readFile(pub_->dir / snapshotName(3), 64 << 20);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  cache::testing::writeFile(bad / snapshotName(3), bytes);
  std::tie(r, doc) = importStick(bad);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(doc["outcome"], "refused") << doc.dump();
  ASSERT_TRUE(doc["code"].is_string());
  EXPECT_NE(doc["code"], "ROLLBACK");
  EXPECT_EQ(serving(), 2);

  // Nothing usable on the stick: NOT_FOUND, said so.
  std::tie(r, doc) = importStick(stick("empty"));
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(doc["code"], "NOT_FOUND");
  EXPECT_EQ(serving(), 2);
}

TEST_F(UsbImportTest, AMirrorDirectoryOnAStickIsSyncedFromFile) {
  pub_->publish(1);
  pub_->stamp();
  auto [r, doc] = importStick(pub_->dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(doc["layout"], "mirror") << doc.dump();
  EXPECT_EQ(doc["outcome"], "imported");
  EXPECT_EQ(serving(), 1);
  // Same stick again: already current.
  std::tie(r, doc) = importStick(pub_->dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(doc["outcome"], "current");
  // The next serial by its delta; then a snapshot that does not match its timestamp.
  pub_->publish(2, true);
  pub_->stamp();
  std::tie(r, doc) = importStick(pub_->dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(doc["serial"], 2);
  EXPECT_EQ(serving(), 2);
  pub_->publish(3, true);
  fs::remove(pub_->dir / deltaName(2, 3));
  pub_->stamp();  // only the snapshot is left to fetch ...
  auto snap = *readFile(pub_->dir / snapshotName(3), 64 << 20);
  snap.back() = static_cast<char>(snap.back() ^ 0x01);  // ... and it is not what was signed
  cache::testing::writeFile(pub_->dir / snapshotName(3), snap);
  std::tie(r, doc) = importStick(pub_->dir);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(doc["code"], "DIGEST_MISMATCH") << doc.dump();
  EXPECT_EQ(serving(), 2);
}

// The packaged script on a real block device: a filesystem image on a loop device
// stands in for the stick. vfat is what sticks come formatted with (mkfs.vfat, filled
// by mcopy without mounting it); ext4 (mkfs.ext4 -d) is what a city's IT may use.
void UsbImportTest::packagedScriptMountsReadOnlyImportsAndUnmounts(const std::string& type) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount, losetup)";
  const std::string tools = type == "vfat" ? "mkfs.vfat mcopy losetup" : "mkfs.ext4 losetup";
  if (run("command -v " + tools).status != 0) GTEST_SKIP() << tools << ": one is missing";
  if (run("grep -qw " + type + " /proc/filesystems || find /lib/modules/$(uname -r) -name '" +
          type + ".ko*' 2>/dev/null | grep -q .")
          .status != 0)
    GTEST_SKIP() << "this kernel has no " << type << " filesystem (not built in, no module)";
  pub_->publish(1);
  auto content = stick("content");
  fs::copy_file(pub_->dir / snapshotName(1), content / snapshotName(1));
  const fs::path image = base_.path() / "stick.img";
  auto mk = type == "vfat"
                ? run("mkfs.vfat -C " + image.string() + " 16384 >/dev/null && mcopy -i " +
                      image.string() + " " + (content / snapshotName(1)).string() + " ::/")
                : run("mkfs.ext4 -q -F -d " + content.string() + " " + image.string() + " 16M");
  ASSERT_EQ(mk.status, 0) << mk.out;
  auto loop = run("losetup --find --show " + image.string());
  if (loop.status != 0) GTEST_SKIP() << "no loop device available: " << loop.out;
  std::string dev = loop.out.substr(0, loop.out.find('\n'));
  const fs::path conf = base_.path() / "kiosk.conf";
  std::ofstream(conf) << "state_dir = " << state_.string() << "\nroot = " << root_.string()
                      << "\ntpm_tcti = none\n";
  const fs::path mounts = base_.path() / "usb";
  const std::string script =
      std::string(KB_TEST_SOURCE_DIR) + "/packaging/usb/kartu-bahagia-usb-import";
  // kbctl behind a wrapper that notes how the stick is mounted while it reads it.
  const fs::path wrapper = base_.path() / "kbctl-wrapper";
  const fs::path seen = base_.path() / "mount-seen";
  std::ofstream(wrapper) << "#!/bin/sh\ngrep ' " << mounts.string() << "/' /proc/self/mounts > "
                         << seen.string() << "\nexec " << kbctl() << " \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  auto r = run("KB_CONFIG=" + conf.string() + " KB_KBCTL=" + wrapper.string() +
               " KB_USB_DIR=" + mounts.string() + " KB_USB_USER= " + script + " " +
               fs::path(dev).filename().string());
  run("losetup -d " + dev);
  ASSERT_EQ(r.status, 0) << r.out;
  auto doc = nlohmann::json::parse(*readFile(usbResultPath(state_), 1 << 16));
  EXPECT_EQ(doc["outcome"], "imported") << doc.dump();
  EXPECT_EQ(doc["serial"], 1);
  EXPECT_EQ(serving(), 1);
  const std::string line = *readFile(seen, 1 << 16);
  for (const char* opt : {"ro,", "nosuid", "nodev", "noexec"})
    EXPECT_NE(line.find(opt), std::string::npos) << opt << " missing: " << line;
  // Unmounted and its mount point gone.
  EXPECT_FALSE(fs::exists(mounts / fs::path(dev).filename()));
  auto mounted = *readFile("/proc/self/mounts", 1 << 20);
  EXPECT_EQ(mounted.find(mounts.string()), std::string::npos) << mounted;
}

// A wrong command line exits as both binaries' usage errors do (kExitUsage), before
// anything is mounted.
TEST_F(UsbImportTest, PackagedScriptWithoutOneDeviceIsAUsageError) {
  const std::string script =
      std::string(KB_TEST_SOURCE_DIR) + "/packaging/usb/kartu-bahagia-usb-import";
  for (const std::string args : {"", " sdb1 sdc1"}) {
    auto r = run("KB_USB_DIR=" + (base_.path() / "mnt").string() + " " + script + args);
    EXPECT_EQ(r.status, kExitUsage) << r.out;
    EXPECT_NE(r.out.find("usage:"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(base_.path() / "mnt"));
  }
}

TEST_F(UsbImportTest, PackagedScriptOnAVfatStick) {
  packagedScriptMountsReadOnlyImportsAndUnmounts("vfat");
}
TEST_F(UsbImportTest, PackagedScriptOnAnExt4Stick) {
  packagedScriptMountsReadOnlyImportsAndUnmounts("ext4");
}

}  // namespace
}  // namespace kb::sync
