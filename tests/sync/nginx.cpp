#include "nginx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace kb::sync::testing {
namespace fs = std::filesystem;

namespace {

void run(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("command failed: " + cmd);
}

bool canConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

Pki makePki(const fs::path& dir) {
  fs::create_directories(dir);
  Pki p{dir / "ca.crt", dir / "server.crt", dir / "server.key", dir / "other-ca.crt"};
  const std::string d = dir.string();
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  run("openssl req -x509 " + ec + " -keyout " + d + "/ca.key -out " + d +
      "/ca.crt -days 2 -subj /CN=kb-test-ca");
  run("openssl req -x509 " + ec + " -keyout " + d + "/other-ca.key -out " + d +
      "/other-ca.crt -days 2 -subj /CN=kb-other-ca");
  run("openssl req " + ec + " -keyout " + d + "/server.key -out " + d +
      "/server.csr -subj /CN=127.0.0.1");
  std::ofstream(dir / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
  run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
      "/ca.key -CAcreateserial -out " + d + "/server.crt -days 2 -extfile " + d + "/san.ext");
  return p;
}

Nginx::Nginx(const fs::path& prefix, const Pki& pki) : prefix_(prefix) {
  fs::create_directories(prefix_ / "www" / "slow");
  fs::create_directories(prefix_ / "tmp");
  port_ = freePort();
  std::string user;
  if (::geteuid() == 0) {  // as root, nginx would run its worker as nobody: keep ours
    if (const passwd* pw = ::getpwuid(::geteuid()))
      user = std::string("user ") + pw->pw_name + ";\n";
  }
  const std::string p = prefix_.string();
  std::ofstream(prefix_ / "nginx.conf")
      << user << "worker_processes 1;\n"
      << "error_log " << p << "/error.log warn;\n"
      << "pid " << p << "/nginx.pid;\n"
      << "events { worker_connections 64; }\n"
      << "http {\n"
      << "  access_log " << p << "/access.log;\n"
      << "  client_body_temp_path " << p << "/tmp/body;\n"
      << "  proxy_temp_path " << p << "/tmp/proxy;\n"
      << "  fastcgi_temp_path " << p << "/tmp/fastcgi;\n"
      << "  uwsgi_temp_path " << p << "/tmp/uwsgi;\n"
      << "  scgi_temp_path " << p << "/tmp/scgi;\n"
      << "  default_type application/octet-stream;\n"
      << "  server {\n"
      << "    listen 127.0.0.1:" << port_ << " ssl;\n"
      << "    ssl_certificate " << pki.server_cert.string() << ";\n"
      << "    ssl_certificate_key " << pki.server_key.string() << ";\n"
      << "    root " << p << "/www;\n"
      << "    location /slow/ { limit_rate 4k; }\n"
      << "    location /e404/ { return 404; }\n"
      << "    location /e500/ { return 500; }\n"
      << "    location /flaky/ { if (-f " << p << "/fail500) { return 500; } }\n"
      << "  }\n"
      << "}\n";
  start();
}

void Nginx::start() {
  if (pid_ > 0) return;
  const std::string p = prefix_.string();
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string conf = p + "/nginx.conf";
    ::execlp("nginx", "nginx", "-p", p.c_str(), "-c", conf.c_str(), "-g", "daemon off;",
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (canConnect(port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nginx exited; see " + p + "/error.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  throw std::runtime_error("nginx did not listen on port " + std::to_string(port_));
}

Nginx::~Nginx() {
  stop();
}

void Nginx::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);  // fast shutdown: master stops its worker and exits
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Nginx::failing(bool on) {
  const fs::path flag = prefix_ / "fail500";
  if (on) {
    std::ofstream(flag) << "1\n";
  } else {
    std::error_code ec;
    fs::remove(flag, ec);
  }
}

std::string Nginx::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/" + path;
}

}  // namespace kb::sync::testing
