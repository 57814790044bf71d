#pragma once
// A real nginx serving a mirror directory over TLS on loopback, for the sync
// tests: a throw-away CA and server certificate made with the openssl command,
// nginx started on a free port with its own prefix and configuration, and
// stopped (and waited for) by the destructor.

#include <filesystem>
#include <string>

namespace kb::sync::testing {

struct Pki {
  std::filesystem::path ca_cert, server_cert, server_key, other_ca_cert;
};
/// Makes a CA with a certificate for 127.0.0.1, and an unrelated second CA.
Pki makePki(const std::filesystem::path& dir);

class Nginx {
 public:
  /// Serves `prefix/www` at https://127.0.0.1:PORT/ with, below it, /slow/
  /// (limit_rate 4k), /e404/ and /e500/ (those statuses for everything), and
  /// /flaky/ (500 for everything while failing(true)).
  Nginx(const std::filesystem::path& prefix, const Pki& pki);
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  int port() const { return port_; }
  std::filesystem::path www() const { return prefix_ / "www"; }
  std::string url(const std::string& path = "") const;

  /// Stops nginx (connections are then refused) and starts it again on the same port.
  void stop();
  void start();
  bool running() const { return pid_ > 0; }
  /// While set, everything below /flaky/ answers 500.
  void failing(bool on);

 private:
  std::filesystem::path prefix_;
  int port_ = 0;
  int pid_ = -1;
};

/// A loopback port nothing listens on (bound and closed again).
int freePort();

}  // namespace kb::sync::testing
