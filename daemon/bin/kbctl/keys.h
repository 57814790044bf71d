#pragma once
// Key files as kbctl's commands read them: PEM, at most kMaxKeyBytes, and an error
// that names the file.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "crypto/crypto.h"
#include "trust/trust.h"

namespace kb::cli {

/// A PEM key is well under a kilobyte; anything this large is not one.
inline constexpr std::uint64_t kMaxKeyBytes = std::uint64_t{64} * 1024;

Result<crypto::SigningKey> loadSigningKey(const std::string& path);
/// A private key file is accepted too: its public half is what a root lists.
Result<crypto::PublicKey> loadPublicKey(const std::string& path);
Result<std::vector<crypto::SigningKey>> loadSigningKeys(const std::vector<std::string>& paths);
Result<std::vector<crypto::PublicKey>> loadPublicKeys(const std::vector<std::string>& paths);
/// The signing keys at `paths`, each one `root` lists for `role` (UNKNOWN_KEY otherwise),
/// so a command refuses a key the kiosks would not trust before doing any work.
Result<std::vector<crypto::SigningKey>> loadRoleKeys(const std::vector<std::string>& paths,
                                                     const trust::TrustRoot& root,
                                                     trust::Role role);

}  // namespace kb::cli
