#include <gtest/gtest.h>

#include <filesystem>

#include "common/address.h"
#include "common/encoding.h"
#include "common/error.h"
#include "common/files.h"
#include "common/time.h"
#include "crypto/crypto.h"

namespace kb {
namespace {

TEST(Encoding, HexRoundTripAndRejectsJunk) {
  EXPECT_EQ(hexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(hexDecode("01AB"), std::string("\x01\xab"));
  EXPECT_FALSE(hexDecode("0"));
  EXPECT_FALSE(hexDecode("zz"));
}

TEST(Encoding, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode("Zm8="), "fo");
  EXPECT_FALSE(base64Decode("Zm8"));
  EXPECT_FALSE(base64Decode("Z=8="));
  EXPECT_FALSE(base64Decode("Zm!="));
}

TEST(Time, FormatsAndParsesUtc) {
  EXPECT_EQ(formatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(parseUtc("2026-11-21T04:52:07Z"), 1795236727);
  EXPECT_EQ(formatUtc(1795236727), "2026-11-21T04:52:07Z");
  EXPECT_FALSE(parseUtc("2026-11-21 04:52:07"));
  EXPECT_FALSE(parseDate("2025-02-29"));
  EXPECT_EQ(formatDate(*parseDate("2024-02-29")), "2024-02-29");
}

TEST(Files, AtomicWriteThenBoundedRead) {
  auto dir = std::filesystem::temp_directory_path() / ("kb-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / "x.txt";
  ASSERT_TRUE(writeFileAtomic(p, "hello", 0600));
  EXPECT_EQ(std::filesystem::status(p).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(readFile(p, 5).value(), "hello");
  EXPECT_EQ(readFile(p, 4).error().code, Errc::TooLarge);
  EXPECT_EQ(readFile(dir / "missing", 4).error().code, Errc::Io);
  std::filesystem::remove_all(dir);
}

// A private key is written through "NAME.key.tmp": a file or symlink already
// there (left by a crash, or planted in a shared directory) must not receive
// the key bytes or keep its wider mode.
TEST(Files, AtomicWriteDoesNotFollowAPlantedTemporary) {
  auto dir =
      std::filesystem::temp_directory_path() / ("kb-files-tmp-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto victim = dir / "victim.txt";
  ASSERT_TRUE(writeFileAtomic(victim, "untouched", 0644));
  auto key = dir / "k.key";
  std::filesystem::create_symlink(victim, dir / "k.key.tmp");
  ASSERT_TRUE(writeFileAtomic(key, "SECRET", 0600));
  EXPECT_EQ(readFile(victim, 64).value(), "untouched");
  EXPECT_EQ(readFile(key, 64).value(), "SECRET");
  EXPECT_FALSE(std::filesystem::is_symlink(key));
  EXPECT_EQ(std::filesystem::status(key).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

TEST(Address, LoopbackOnly) {
  for (auto ok : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"})
    EXPECT_TRUE(isLoopbackAddress(ok)) << ok;
  for (auto no : {"", "0.0.0.0", "10.0.0.1", "127.999.1.1", "127.0.0.1.evil.com", "127.1",
                  "0177.0.0.1", "128.0.0.1", "::", "evil.localhost", "[::2]"})
    EXPECT_FALSE(isLoopbackAddress(no)) << no;
}

TEST(Crypto, Sha256KnownAnswer) {
  EXPECT_EQ(hexEncode(crypto::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, Ed25519SignVerifyAndPemRoundTrip) {
  auto key = crypto::SigningKey::generate().value();
  auto pub = key.publicKey();
  auto sig = key.sign("message");
  EXPECT_TRUE(pub.verify("message", sig));
  EXPECT_FALSE(pub.verify("messagE", sig));
  auto again = crypto::SigningKey::fromPem(key.toPem()).value();
  EXPECT_EQ(again.publicKey().keyId(), pub.keyId());
  EXPECT_EQ(crypto::PublicKey::fromPem(pub.toPem()).value().raw(), pub.raw());
  EXPECT_EQ(pub.keyId().size(), 32u);
  EXPECT_FALSE(crypto::PublicKey::fromPem("junk"));
}

TEST(Crypto, Ed25519Rfc8032TestVector1) {
  auto pub = crypto::PublicKey::fromRaw(
                 *hexDecode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
                 .value();
  auto sig = *hexDecode(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(pub.verify("", sig));
}

}  // namespace
}  // namespace kb
