#include "bin/kbctl/keys.h"

#include "common/files.h"
#include "trust/errors.h"

namespace kb::cli {

Result<crypto::SigningKey> loadSigningKey(const std::string& path) {
  auto pem = readFile(path, kMaxKeyBytes);
  if (!pem) return std::unexpected(pem.error());
  auto key = crypto::SigningKey::fromPem(*pem);
  if (!key) return fail(key.error().code, path + ": " + key.error().message);
  return key;
}

Result<crypto::PublicKey> loadPublicKey(const std::string& path) {
  auto pem = readFile(path, kMaxKeyBytes);
  if (!pem) return std::unexpected(pem.error());
  if (pem->find("PRIVATE KEY") != std::string::npos) {
    auto key = crypto::SigningKey::fromPem(*pem);
    if (!key) return fail(key.error().code, path + ": " + key.error().message);
    return key->publicKey();
  }
  auto key = crypto::PublicKey::fromPem(*pem);
  if (!key) return fail(key.error().code, path + ": " + key.error().message);
  return key;
}

namespace {

template <class Key>
Result<std::vector<Key>> loadEach(const std::vector<std::string>& paths,
                                  Result<Key> (*load)(const std::string&)) {
  std::vector<Key> keys;
  for (const auto& p : paths) {
    auto k = load(p);
    if (!k) return std::unexpected(k.error());
    keys.push_back(std::move(*k));
  }
  return keys;
}

}  // namespace

Result<std::vector<crypto::SigningKey>> loadSigningKeys(const std::vector<std::string>& paths) {
  return loadEach(paths, loadSigningKey);
}

Result<std::vector<crypto::PublicKey>> loadPublicKeys(const std::vector<std::string>& paths) {
  return loadEach(paths, loadPublicKey);
}

Result<std::vector<crypto::SigningKey>> loadRoleKeys(const std::vector<std::string>& paths,
                                                     const trust::TrustRoot& root,
                                                     trust::Role role) {
  std::vector<crypto::SigningKey> keys;
  for (const auto& p : paths) {
    auto k = loadSigningKey(p);
    if (!k) return std::unexpected(k.error());
    const std::string id = k->publicKey().keyId();
    if (!root.key(role, id))
      return fail(TrustErrc::UnknownKey, p + ": key " + id + " is not listed for role " +
                                             std::string(trust::roleName(role)) +
                                             " in the trust root");
    keys.push_back(std::move(*k));
  }
  return keys;
}

}  // namespace kb::cli
