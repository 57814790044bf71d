// Fleet monitoring against the real binaries: kartu-bahagiad's management listener
// (config key management_listen) answers GET /metrics and /healthz and nothing else,
// --check-config and start-up name the key when it is wrong, and a real Prometheus
// (started here on loopback, temp config and storage) scrapes a running daemon and
// evaluates packaging/prometheus/kartu-bahagia.rules.yml on what it scraped.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "tests/kiosk/child_process.h"
#include "tests/web/http_client.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using kb::testing::binaryPath;
using kb::testing::ChildProcess;
using kb::testing::httpGet;
using kb::testing::httpRequest;
using kb::testing::HttpResult;

fs::path tempDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("kb_fleet_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string sourceDir() {
  const char* s = std::getenv("KB_SOURCE_DIR");
  return s ? s : ".";
}

// A free loopback port (bound and released: nothing else on this machine races for it
// in practice, and Prometheus, unlike our daemon, cannot tell which port 0 gave it).
unsigned short freePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// `name` on PATH (posix_spawn does not search it).
std::string onPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::error_code ec;
    if (!dir.empty() && fs::exists(fs::path(dir) / name, ec))
      return (fs::path(dir) / name).string();
  }
  return {};
}

// Metric family names in Prometheus text (from the # TYPE lines).
std::set<std::string> families(const std::string& text) {
  std::set<std::string> out;
  std::regex type(R"(# TYPE (\S+) )");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), type); it != std::sregex_iterator();
       ++it)
    out.insert((*it)[1].str());
  return out;
}

// A demo daemon (DEV keys, signed demo cache, sim reader) with a management listener.
class ManagedDaemon {
 public:
  explicit ManagedDaemon(const fs::path& dir, bool management = true) {
    std::vector<std::string> args{"--demo", "--listen", "127.0.0.1:0", "--state-dir",
                                  (dir / "state").string()};
    if (management) {
      args.push_back("--set");
      args.push_back("management_listen=127.0.0.1:0");
    }
    child_ = std::make_unique<ChildProcess>(binaryPath("kartu-bahagiad"), args);
    auto kiosk =
        child_->waitForOutput(std::regex(R"(Open the kiosk: +http://127\.0\.0\.1:([0-9]+)/)"));
    if (!kiosk) return;
    kiosk_port = static_cast<unsigned short>(std::stoi((*kiosk)[1].str()));
    if (!management) return;
    auto m = child_->waitForOutput(
        std::regex(R"(management listener on http://127\.0\.0\.1:([0-9]+)/)"));
    if (m) management_port = static_cast<unsigned short>(std::stoi((*m)[1].str()));
  }
  ChildProcess& process() { return *child_; }
  unsigned short kiosk_port = 0;
  unsigned short management_port = 0;

 private:
  std::unique_ptr<ChildProcess> child_;
};

TEST(ManagementListener, AnswersMetricsAndHealthzOnly) {
  auto dir = tempDir("only");
  ManagedDaemon d(dir);
  ASSERT_NE(d.kiosk_port, 0) << d.process().err();
  ASSERT_NE(d.management_port, 0) << d.process().err();
  ASSERT_NE(d.kiosk_port, d.management_port);
  const unsigned short m = d.management_port;

  // The same /metrics as the kiosk listener's (one handler), with the data's age.
  auto metrics = httpGet(m, "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.content_type.find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find("\nkb_data_age_seconds "), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("\nkb_data_valid 1\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("\nkb_dev_root 1\n"), std::string::npos) << metrics.body;
  EXPECT_EQ(families(metrics.body), families(httpGet(d.kiosk_port, "/metrics").body));
  // Nothing personal: the demo's card numbers and names appear in no metric.
  EXPECT_EQ(metrics.body.find("KB-DEMO"), std::string::npos);

  auto health = httpGet(m, "/healthz");
  auto kiosk_health = httpGet(d.kiosk_port, "/healthz");
  EXPECT_EQ(health.status, kiosk_health.status);
  auto h = nlohmann::json::parse(health.body, nullptr, false);
  ASSERT_TRUE(h.is_object()) << health.body;
  EXPECT_EQ(h["status"], nlohmann::json::parse(kiosk_health.body)["status"]);
  EXPECT_EQ(h["dev"], true);
  EXPECT_EQ(httpRequest(m, http::verb::head, "/metrics").status, 200);

  // Reached over the network by its address: any Host. The kiosk listener still refuses it.
  auto remote = httpRequest(m, http::verb::get, "/metrics", {}, {}, "10.20.1.11");
  EXPECT_EQ(remote.status, 200);
  EXPECT_EQ(httpRequest(d.kiosk_port, http::verb::get, "/metrics", {}, {}, "10.20.1.11").status,
            421);

  // No UI, no API, no demo endpoints, no WebSocket, no POST.
  for (const char* path :
       {"/", "/index.html", "/app.js", "/api/state", "/api/demo/cards", "/api/qr/JKK.svg",
        "/api/printer", "/api/nothing", "/metrics/x", "/healthzz"})
    EXPECT_EQ(httpGet(m, path).status, 404) << path;
  EXPECT_EQ(httpGet(d.kiosk_port, "/").status, 200);  // the kiosk listener has them
  EXPECT_EQ(httpGet(d.kiosk_port, "/api/state").status, 200);
  EXPECT_EQ(
      httpRequest(m, http::verb::post, "/api/demo/tap", R"({"card_no":"KB-DEMO-ACTIVE"})").status,
      404);
  EXPECT_EQ(httpRequest(m, http::verb::post, "/metrics", "{}").status, 405);
  EXPECT_EQ(httpRequest(m, http::verb::delete_, "/healthz").status, 405);
  auto ws = httpRequest(m, http::verb::get, "/api/ws", {},
                        {{"Upgrade", "websocket"},
                         {"Connection", "Upgrade"},
                         {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                         {"Sec-WebSocket-Version", "13"}});
  EXPECT_EQ(ws.status, 404);
  // The tap was refused: the kiosk still shows its idle screen.
  EXPECT_EQ(nlohmann::json::parse(httpGet(d.kiosk_port, "/api/state").body)["screen"], "idle");

  // The kiosk server's connection budget (16 per peer): idle sockets cannot lock a
  // scraper out; the oldest goes and /metrics is still answered.
  {
    boost::asio::io_context io;
    std::vector<boost::asio::ip::tcp::socket> idle;
    for (int i = 0; i < 40; ++i) {
      idle.emplace_back(io);
      idle.back().connect({boost::asio::ip::make_address("127.0.0.1"), m});
    }
    EXPECT_EQ(httpGet(m, "/metrics").status, 200);
  }

  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(5s), 0) << d.process().err();
  fs::remove_all(dir);
}

TEST(ManagementListener, OffByDefault) {
  auto dir = tempDir("off");
  ManagedDaemon d(dir, false);
  ASSERT_NE(d.kiosk_port, 0) << d.process().err();
  EXPECT_EQ(httpGet(d.kiosk_port, "/metrics").status, 200);
  EXPECT_EQ(d.process().err().find("management listener"), std::string::npos) << d.process().err();
  fs::remove_all(dir);
}

class ManagementConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A production config (sim reader, DEV root allowed for the test) plus `extra` lines.
  std::string write(const std::string& extra, const std::string& listen = "127.0.0.1:8080") {
    auto file = (dir_ / "kiosk.conf").string();
    std::ofstream(file) << "reader = sim\nlisten = " << listen << "\n"
                        << "state_dir = " << dir_.string() << "\nui_dir = " << dir_.string()
                        << "\nroot = " << sourceDir() << "/certs/dev/DEV-root.json\n"
                        << "allow_dev_root = true\n"
                        << extra;
    return file;
  }
  fs::path dir_;
};

TEST_F(ManagementConfig, CheckConfigNamesTheKey) {
  auto good = write("management_listen = 0.0.0.0:9464\n");
  auto ok = kb::testing::runToEnd(binaryPath("kartu-bahagiad"), {"--check-config", good});
  EXPECT_EQ(ok.status, 0) << ok.err;
  auto v6 = write("management_listen = [::]:9464\n");
  EXPECT_EQ(kb::testing::runToEnd(binaryPath("kartu-bahagiad"), {"--check-config", v6}).status, 0);
  auto off = write("management_listen =\n");
  EXPECT_EQ(kb::testing::runToEnd(binaryPath("kartu-bahagiad"), {"--check-config", off}).status, 0);

  struct Bad {
    std::string line, message;
  };
  for (const auto& [line, message] : std::vector<Bad>{
           {"management_listen = kiosk-7.local:9464",
            ":7: management_listen: not an IP address: 'kiosk-7.local'"},
           {"management_listen = 0.0.0.0", ":7: management_listen: expected ADDRESS:PORT"},
           {"management_listen = 10.0.0.1:99999",
            ":7: management_listen: port must be between 0 and 65535"},
           {"management_listen = 0.0.0.0:8080",
            ": management_listen: port 8080 is already the kiosk's listen port"},
       }) {
    auto file = write(line + "\n");
    auto r = kb::testing::runToEnd(binaryPath("kartu-bahagiad"), {"--check-config", file});
    EXPECT_EQ(r.status, 1) << line;
    EXPECT_NE(r.err.find("error: CONFIG: " + file + message), std::string::npos) << line << "\n"
                                                                                 << r.err;
  }
}

TEST_F(ManagementConfig, StartupNamesTheKeyWhenThePortIsTaken) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const auto port = taken.local_endpoint().port();
  // The kiosk listener on port 0: 8080 may be in use on a build machine.
  auto file = write("management_listen = 127.0.0.1:" + std::to_string(port) + "\n", "127.0.0.1:0");
  auto r = kb::testing::runToEnd(binaryPath("kartu-bahagiad"), {"--config", file});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("management_listen: cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.err;
}

// Polls Prometheus' query API until `pred` holds for the result vector (bounded).
std::optional<nlohmann::json> waitQuery(unsigned short port, const std::string& query_escaped,
                                        const std::function<bool(const nlohmann::json&)>& pred,
                                        std::chrono::seconds bound = 60s) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResult r;
    try {
      r = httpGet(port, "/api/v1/query?query=" + query_escaped);
    } catch (const std::exception&) {
      r.status = 0;  // not listening yet
    }
    if (r.status == 200) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_object() && j["status"] == "success" && pred(j["data"]["result"]))
        return j["data"]["result"];
    }
    std::this_thread::sleep_for(100ms);
  }
  return std::nullopt;
}

TEST(Prometheus, ScrapesTheManagementListenerAndEvaluatesTheRules) {
  const std::string prometheus = onPath("prometheus");
  ASSERT_FALSE(prometheus.empty())
      << "prometheus not found (Debian package prometheus: scripts/install-deps.sh "
         "--with-test-tools)";
  auto dir = tempDir("prometheus");
  ManagedDaemon d(dir);
  ASSERT_NE(d.management_port, 0) << d.process().err();

  // The packaged scrape job and rules, with a short interval and the daemon's port.
  const std::string target = "127.0.0.1:" + std::to_string(d.management_port);
  std::ofstream(dir / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
      << "rule_files:\n  - " << sourceDir() << "/packaging/prometheus/kartu-bahagia.rules.yml\n"
      << "scrape_configs:\n  - job_name: kartu-bahagia-kiosk\n    metrics_path: /metrics\n"
      << "    static_configs:\n      - targets: [\"" << target << "\"]\n"
      << "        labels: {kelurahan: Test}\n";
  const unsigned short port = freePort();
  ChildProcess prom(prometheus,
                    {"--config.file=" + (dir / "prometheus.yml").string(),
                     "--storage.tsdb.path=" + (dir / "data").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"});

  auto first = [](const nlohmann::json& v) {
    return v.is_array() && v.size() == 1 ? v[0] : nlohmann::json();
  };
  auto up = waitQuery(port, "up%7Bjob%3D%22kartu-bahagia-kiosk%22%7D",
                      [&](const nlohmann::json& v) { return first(v)["value"][1] == "1"; });
  ASSERT_TRUE(up) << prom.err() << d.process().err();
  EXPECT_EQ(first(*up)["metric"]["instance"], target);

  // The daemon's own series, labelled by the scrape job.
  auto age = waitQuery(port, "kb_data_age_seconds",
                       [&](const nlohmann::json& v) { return first(v).is_object(); });
  ASSERT_TRUE(age) << prom.err();
  EXPECT_EQ(first(*age)["metric"]["job"], "kartu-bahagia-kiosk");
  EXPECT_EQ(first(*age)["metric"]["kelurahan"], "Test");
  EXPECT_GE(std::stod(first(*age)["value"][1].get<std::string>()), 0.0);
  auto valid = waitQuery(port, "kb_data_valid",
                         [&](const nlohmann::json& v) { return first(v)["value"][1] == "1"; });
  EXPECT_TRUE(valid);

  // The rules load, and the demo's DEV root fires KartuBahagiaDevRoot from what was scraped.
  auto dev = waitQuery(
      port, "ALERTS%7Balertname%3D%22KartuBahagiaDevRoot%22%2Calertstate%3D%22firing%22%7D",
      [&](const nlohmann::json& v) { return first(v).is_object(); });
  ASSERT_TRUE(dev) << prom.err();
  EXPECT_EQ(first(*dev)["metric"]["instance"], target);
  EXPECT_EQ(first(*dev)["metric"]["severity"], "critical");
  auto rules = nlohmann::json::parse(httpGet(port, "/api/v1/rules").body, nullptr, false);
  ASSERT_TRUE(rules.is_object());
  std::size_t loaded = 0;
  for (const auto& g : rules["data"]["groups"])
    for (const auto& r : g["rules"]) loaded += r["health"] == "ok" ? 1 : 0;
  std::ifstream rule_file(sourceDir() + "/packaging/prometheus/kartu-bahagia.rules.yml");
  std::size_t alerts = 0;
  for (std::string line; std::getline(rule_file, line);)
    alerts += line.find("- alert: ") != std::string::npos ? 1 : 0;
  EXPECT_GT(alerts, 5u);
  EXPECT_EQ(loaded, alerts) << rules.dump();

  // The daemon stops; Prometheus sees it down.
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(5s), 0);
  EXPECT_TRUE(waitQuery(port, "up%7Bjob%3D%22kartu-bahagia-kiosk%22%7D",
                        [&](const nlohmann::json& v) { return first(v)["value"][1] == "0"; }));
  prom.signal(SIGTERM);
  EXPECT_TRUE(prom.wait(15s)) << prom.err();
  fs::remove_all(dir);
}

}  // namespace
