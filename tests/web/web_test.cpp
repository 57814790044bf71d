#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "kiosk/service.h"
#include "schema/schema.h"
#include "tests/web/http_client.h"
#include "tests/web/ws_client.h"
#include "web/broadcaster.h"
#include "web/kiosk_routes.h"
#include "web/qr.h"
#include "web/server.h"
#include "web/static_files.h"

namespace kb::web {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kb::testing::httpGet;
using kb::testing::httpRequest;
using kb::testing::WsClient;

cache::Verdict activeVerdict() {
  cache::Verdict v;
  v.verdict = cache::VerdictCode::Active;
  v.freshness = cache::Freshness::Fresh;
  v.snapshot = cache::SnapshotInfo{3, 1795136400, 1797728400};  // 2026-11-20/12-20 01:00 UTC
  v.age_seconds = 60;
  roster::CardRecord card;
  card.card_no = "KB-1571-0000042";
  card.status = "active";
  card.holder = "SIT* NUR*****";
  v.card = card;
  return v;
}

// Answers like a cache without SQLite: the web layer is under test here.
class FakeData : public kiosk::DataSource {
 public:
  std::atomic<bool> usable{true};
  kiosk::Lookup lookup(std::string_view, UnixSeconds) override { return {activeVerdict(), false}; }
  kiosk::DataStatus status(UnixSeconds) override {
    kiosk::DataStatus s;
    s.serving = usable;
    s.usable = usable;
    s.reason = usable ? "" : "no verified cache";
    s.serial = 3;
    s.age_seconds = 60;
    s.data = {{"freshness", usable ? "FRESH" : "NONE"},
              {"serial", 3},
              {"signed_at", nullptr},
              {"expires_at", nullptr},
              {"age_seconds", 60},
              {"last_sync", nullptr},
              {"last_sync_error", nullptr}};
    return s;
  }
};

class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kb_web_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "ui" / "sub");
    fs::create_directories(dir_ / "ui" / "empty-dir");
    std::ofstream(dir_ / "ui" / "index.html") << "<!doctype html><title>kiosk</title>";
    std::ofstream(dir_ / "ui" / "app.js") << "export const x = 1;";
    std::ofstream(dir_ / "ui" / "sub" / "page.css") << "body{}";
    std::ofstream(dir_ / "secret.txt") << "TOP-SECRET";
    fs::create_symlink(dir_ / "secret.txt", dir_ / "ui" / "link.txt");

    strand_.emplace(boost::asio::make_strand(io_));
    broadcaster_ = std::make_unique<Broadcaster>(*strand_);
    kiosk::Machine machine({200ms, 5s, 5s}, "sim", false, "https://example.go.id/panduan");
    kiosk_ = std::make_unique<kiosk::KioskService>(
        *strand_, std::move(machine), data_,
        [this](std::shared_ptr<const std::string> s) { broadcaster_->publish(std::move(s)); }, log_,
        registry_);
    api_ = std::make_unique<KioskApi>(KioskApi{*kiosk_, *broadcaster_, counters_,
                                               (dir_ / "ui").string(),
                                               "https://example.go.id/panduan", nullptr});
    addKioskRoutes(router_, *api_);
    HttpOptions options;
    options.read_timeout = 300ms;  // short, for the slow-header test
    server_ = std::make_unique<Server>(
        io_, router_, *broadcaster_, counters_,
        [this](std::string text) { kiosk_->uiAction(std::move(text)); }, options);
    auto endpoint = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(endpoint) << endpoint.error().message;
    port_ = endpoint->port();
    kiosk_->start();
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (kiosk_) kiosk_->stop();
    if (thread_.joinable()) {
      // Everything closes; run() returns on its own. The bound only catches a hang.
      auto deadline = std::chrono::steady_clock::now() + 5s;
      while (!io_.stopped() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
      EXPECT_TRUE(io_.stopped()) << "io_context still busy after stop()";
      io_.stop();
      thread_.join();
    }
    fs::remove_all(dir_);
  }

  fs::path dir_;
  boost::asio::io_context io_;
  std::optional<Strand> strand_;
  std::unique_ptr<Broadcaster> broadcaster_;
  FakeData data_;
  kiosk::Logger log_{kiosk::LogLevel::Error};
  metrics::Registry registry_;
  std::unique_ptr<kiosk::KioskService> kiosk_;
  HttpCounters counters_;
  std::unique_ptr<KioskApi> api_;
  Router router_;
  std::unique_ptr<Server> server_;
  unsigned short port_ = 0;
  std::thread thread_;
};

TEST_F(WebTest, ServesStateAsJson) {
  auto r = httpGet(port_, "/api/state");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["screen"], "idle");
  EXPECT_EQ(j["data"]["freshness"], "FRESH");
}

TEST_F(WebTest, ServesStaticFilesWithContentTypes) {
  auto index = httpGet(port_, "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("kiosk"), std::string::npos);
  EXPECT_EQ(httpGet(port_, "/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(httpGet(port_, "/sub/page.css?v=2").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(httpGet(port_, "/missing.js").status, 404);
  auto head = httpRequest(port_, boost::beast::http::verb::head, "/app.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(WebTest, HeadAnswersCarryNoBodySoKeepAliveStaysInStep) {
  // Two requests on one connection: HEAD of an API route, then GET. A body sent with the
  // HEAD answer would be read by the client as the start of the next response.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  std::string requests =
      "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(requests));
  std::string all;
  std::array<char, 4096> buf{};
  boost::system::error_code ec;
  while (!ec) all.append(buf.data(), socket.read_some(boost::asio::buffer(buf), ec));
  auto end_of_head = all.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos) << all;
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200")) << all;
  EXPECT_NE(all.find("Content-Length: "), std::string::npos) << all;
  EXPECT_TRUE(all.substr(end_of_head + 4).starts_with("HTTP/1.1 200")) << all;
}

TEST_F(WebTest, RejectsPathTraversalInEveryForm) {
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/link.txt", "/%00index.html", "/%zz",
        "/empty-dir/", "/empty-dir"}) {
    auto r = httpGet(port_, target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body.find("TOP-SECRET"), std::string::npos) << target;
  }
  // A path that goes out and comes back in is fine: only the resolved place counts.
  EXPECT_EQ(httpGet(port_, "/sub/../app.js").status, 200);
}

TEST_F(WebTest, StaticFilesResolveOnlyUnderTheRoot) {
  StaticFiles files(dir_ / "ui");
  EXPECT_TRUE(files.resolve("/app.js"));
  EXPECT_FALSE(files.resolve("/link.txt"));
  EXPECT_FALSE(files.resolve("/%2e%2e/secret.txt"));
  EXPECT_FALSE(files.resolve("no-slash"));
  EXPECT_EQ(percentDecode("%41%2f"), "A/");
  EXPECT_FALSE(percentDecode("%4"));
  EXPECT_FALSE(percentDecode("%00"));
}

TEST_F(WebTest, UnknownRoutesAndMethods) {
  EXPECT_EQ(httpGet(port_, "/api/nope").status, 404);
  EXPECT_EQ(httpGet(port_, "/api/").status, 404);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::post, "/api/state", "{}").status, 405);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::delete_, "/app.js").status, 404);
}

TEST_F(WebTest, DemoEndpointsDoNotExistWithoutDemo) {
  EXPECT_EQ(httpGet(port_, "/api/demo/cards").status, 404);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::post, "/api/demo/tap",
                        R"({"card_no":"KB-DEMO-ACTIVE"})")
                .status,
            404);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::post, "/api/demo/remove").status, 404);
}

TEST_F(WebTest, BodyOverTheLimitIs413) {
  auto r =
      httpRequest(port_, boost::beast::http::verb::post, "/api/state", std::string(10000, 'x'));
  EXPECT_EQ(r.status, 413);
}

TEST_F(WebTest, HugeHeaderIs431) {
  auto r = httpRequest(port_, boost::beast::http::verb::get, "/api/state", {},
                       {{"X-Junk", std::string(20000, 'j')}});
  EXPECT_EQ(r.status, 431);
}

TEST_F(WebTest, SlowHeaderIsCutOffAtTheDeadline) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  std::string partial = "GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n";  // never finished
  boost::asio::write(socket, boost::asio::buffer(partial));
  // The server closes the connection: the read ends with EOF instead of blocking.
  std::array<char, 64> buf{};
  boost::system::error_code ec;
  auto started = std::chrono::steady_clock::now();
  socket.read_some(boost::asio::buffer(buf), ec);
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
      << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // only catches a hang
}

TEST_F(WebTest, ForeignHostOrOriginIsRefused) {
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::get, "/api/state", {}, {}, "evil.example")
                .status,
            421);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::get, "/api/state", {}, {},
                        "127.0.0.1.evil.example")
                .status,
            421);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::get, "/api/state", {},
                        {{"Origin", "http://evil.example"}})
                .status,
            403);
  // Another loopback port is another site.
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::get, "/api/state", {},
                        {{"Origin", "http://localhost:9"}})
                .status,
            403);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::get, "/api/state", {},
                        {{"Origin", "http://127.0.0.1:" + std::to_string(port_ + 1)}})
                .status,
            403);
  EXPECT_EQ(httpRequest(port_, boost::beast::http::verb::get, "/api/state", {},
                        {{"Origin", "http://127.0.0.1:" + std::to_string(port_)}})
                .status,
            200);
  EXPECT_EQ(
      httpRequest(port_, boost::beast::http::verb::get, "/api/state", {}, {}, "localhost").status,
      200);
}

TEST_F(WebTest, WebSocketGetsStateOnConnectAndOnEveryChange) {
  WsClient ws;
  ws.connect(port_, "http://127.0.0.1:" + std::to_string(port_));
  auto first = ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "idle"; });
  ASSERT_TRUE(first);

  kiosk_->cardArrived();
  auto reading = ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "reading"; });
  ASSERT_TRUE(reading);
  EXPECT_GT((*reading)["seq"].get<int>(), (*first)["seq"].get<int>());

  kiosk_->cardRead({card::CardCheck::Genuine, card::Originality::Valid, "KB-1571-0000042"});
  auto status = ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "status"; });
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["tap"]["verdict"], "ACTIVE");
  EXPECT_EQ((*status)["tap"]["card_check"], "GENUINE");

  ws.send(R"({"action":"guidance","program":"JKK"})");
  auto guidance = ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "guidance"; });
  ASSERT_TRUE(guidance);
  EXPECT_EQ((*guidance)["guidance"], "JKK");

  ws.send("garbage that is ignored");
  ws.send(R"({"action":"done"})");
  auto idle = ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "idle"; });
  ASSERT_TRUE(idle);
  EXPECT_TRUE((*idle)["tap"].is_null());

  // A second client (a reloaded page) gets the current state at once.
  WsClient again;
  again.connect(port_);
  auto current = again.readUntil([](const nlohmann::json&) { return true; });
  ASSERT_TRUE(current);
  EXPECT_EQ((*current)["seq"], (*idle)["seq"]);
}

TEST_F(WebTest, RemovalTimerReturnsToIdle) {
  WsClient ws;
  ws.connect(port_);
  kiosk_->cardArrived();
  kiosk_->cardRead({card::CardCheck::Genuine, card::Originality::Valid, "KB-1571-0000042"});
  ASSERT_TRUE(ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "status"; }));
  kiosk_->cardRemoved();  // removal timeout is 200 ms here
  auto idle = ws.readUntil([](const nlohmann::json& j) { return j["screen"] == "idle"; });
  ASSERT_TRUE(idle);
  EXPECT_TRUE((*idle)["tap"].is_null());
  auto state = nlohmann::json::parse(httpGet(port_, "/api/state").body);
  EXPECT_EQ(state["screen"], "idle");
  EXPECT_EQ(state.dump().find("SIT*"), std::string::npos);
}

TEST_F(WebTest, WebSocketFromAForeignOriginIsRefused) {
  WsClient ws;
  EXPECT_THROW(ws.connect(port_, "http://evil.example"), boost::system::system_error);
}

TEST_F(WebTest, OversizedWebSocketMessageClosesTheClient) {
  WsClient ws;
  ws.connect(port_);
  ASSERT_TRUE(ws.readText());
  ws.send(std::string(4096, 'x'));
  // The server drops the connection: the next read fails rather than waiting.
  EXPECT_FALSE(ws.readText(3s));
}

TEST_F(WebTest, AWebSocketJoiningAfterCloseAllIsClosedToo) {
  // Server::stop() closes WebSocket clients through closeAll(); a client whose handshake
  // completes just after that must not stay subscribed (it kept the io_context busy).
  broadcaster_->closeAll();
  WsClient ws;
  ws.connect(port_);
  EXPECT_FALSE(ws.readText(2s));
}

TEST_F(WebTest, HealthzFollowsTheCache) {
  auto ok = httpGet(port_, "/healthz");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["status"], "ok");
  data_.usable = false;
  auto bad = httpGet(port_, "/healthz");
  EXPECT_EQ(bad.status, 503);
  auto j = nlohmann::json::parse(bad.body);
  EXPECT_EQ(j["status"], "unavailable");
  EXPECT_EQ(j["reason"], "no verified cache");
}

// Healthy means a citizen can be served: without a reader nobody can be.
TEST_F(WebTest, HealthzIs503WhileTheReaderIsLost) {
  ASSERT_EQ(httpGet(port_, "/healthz").status, 200);
  kiosk_->readerLost("unplugged");
  auto lost = httpGet(port_, "/healthz");
  EXPECT_EQ(lost.status, 503) << lost.body;
  EXPECT_EQ(nlohmann::json::parse(lost.body)["code"], "READER_LOST");
  kiosk_->readerBack();
  EXPECT_EQ(httpGet(port_, "/healthz").status, 200);
}

// Raw bytes to the server; what it answers until it closes (bounded).
std::string rawExchange(unsigned short port, const std::string& bytes) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(socket, boost::asio::buffer(bytes));
  std::string out;
  std::array<char, 4096> buf{};
  boost::system::error_code ec;
  while (!ec && out.size() < 65536) {
    auto n = socket.read_some(boost::asio::buffer(buf), ec);
    out.append(buf.data(), n);
  }
  return out;
}

TEST_F(WebTest, DuplicateHostHeadersAreRefused) {
  auto r = rawExchange(port_,
                       "GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n"
                       "Connection: close\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400")) << r;
  EXPECT_NE(r.find("BAD_HOST"), std::string::npos) << r;
  auto two_origins = rawExchange(port_,
                                 "GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Origin: http://127.0.0.1\r\nOrigin: http://evil.example\r\n"
                                 "Connection: close\r\n\r\n");
  EXPECT_TRUE(two_origins.starts_with("HTTP/1.1 403")) << two_origins;
}

TEST_F(WebTest, PostBodiesMustBeJson) {
  namespace http = boost::beast::http;
  // A page elsewhere can send a form or text/plain without a preflight: refused first.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
    std::string req = "POST /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (*type) req += std::string("Content-Type: ") + type + "\r\n";
    req += "Content-Length: 2\r\n\r\n{}";
    auto r = rawExchange(port_, req);
    EXPECT_TRUE(r.starts_with("HTTP/1.1 415")) << type << "\n" << r;
  }
  // JSON gets as far as the router (no POST route here: 405).
  EXPECT_EQ(httpRequest(port_, http::verb::post, "/api/state", "{}").status, 405);
}

TEST_F(WebTest, IdleWebSocketsAndSlowSocketsNeverBlockHealthzOrTheNextClient) {
  std::vector<std::unique_ptr<WsClient>> idle;
  for (int i = 0; i < 64; ++i) {
    idle.push_back(std::make_unique<WsClient>());
    idle.back()->connect(port_);
  }
  boost::asio::io_context io;  // before the sockets: they must go first
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<boost::asio::ip::tcp::socket>(io));
    slow.back()->connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    boost::asio::write(*slow.back(), boost::asio::buffer(std::string("GET / HTTP/1.1\r\n")));
  }
  auto h = httpGet(port_, "/healthz");
  EXPECT_EQ(h.status, 200) << h.body;
  WsClient page;
  page.connect(port_);
  EXPECT_TRUE(page.readText()) << "the page's own reconnect got no state";
  auto metrics = httpGet(port_, "/metrics").body;
  EXPECT_NE(metrics.find("kb_ws_clients 8"), std::string::npos) << metrics;
}

TEST_F(WebTest, EndlessEmptyContinuationFramesAreCutOff) {
  WsClient client;
  client.connect(port_);
  ASSERT_TRUE(client.readText());  // the first state
  auto& socket = boost::beast::get_lowest_layer(client.stream()).socket();
  // A non-final empty text frame, then empty non-final continuations, masked as a
  // client must: 6 bytes each, no payload, never a final frame.
  const std::string first("\x01\x80\x00\x00\x00\x00", 6);
  const std::string more("\x00\x80\x00\x00\x00\x00", 6);
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(first), ec);
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += more;
  auto deadline = std::chrono::steady_clock::now() + 10s;  // only catches "never closed"
  while (!ec && std::chrono::steady_clock::now() < deadline) {
    boost::asio::write(socket, boost::asio::buffer(burst), ec);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(ec) << "the server still reads endless empty frames";
}

TEST_F(WebTest, MetricsAreValidPrometheusText) {
  kiosk_->cardArrived();
  kiosk_->cardRead({card::CardCheck::Forged, card::Originality::Valid, ""});
  WsClient ws;
  ws.connect(port_);
  ASSERT_TRUE(ws.readText());
  httpGet(port_, "/nothing-here");
  auto r = httpGet(port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::regex sample(R"(^[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$)");
  std::regex comment(R"(^# (HELP|TYPE) [a-z_:][a-z0-9_:]* .+$)");
  std::istringstream lines(r.body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(std::regex_match(line, sample) || std::regex_match(line, comment)) << line;
    if (!line.starts_with("#")) ++samples;
  }
  EXPECT_GT(samples, 5);
  EXPECT_NE(r.body.find("kb_kiosk_taps_total{outcome=\"CANNOT_VERIFY_CARD\"} 1"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("kb_card_checks_total{result=\"FORGED\"} 1"), std::string::npos);
  EXPECT_NE(r.body.find("kb_ws_clients 1"), std::string::npos);
  EXPECT_NE(r.body.find("kb_http_requests_total{code=\"4xx\"} 1"), std::string::npos);
  EXPECT_NE(r.body.find("kb_snapshot_serial 3"), std::string::npos);
  EXPECT_NE(r.body.find("kb_reader_up 1"), std::string::npos);
}

// What a phone camera would read from a QR SVG: the modules drawn as a grey-scale image
// (8 pixels per module), decoded by zbarimg (Debian zbar-tools). Empty if nothing decodes.
std::string decodeQr(const std::string& svg) {
  static const std::regex kViewBox("viewBox=\"0 0 ([0-9]+) ([0-9]+)\"");
  static const std::regex kModule("M([0-9]+) ([0-9]+)h1v1h-1z");
  std::smatch box;
  if (!std::regex_search(svg, box, kViewBox) || box[1] != box[2]) return {};
  const int n = std::stoi(box[1]);
  if (n <= 0 || n > 200) return {};
  std::vector<unsigned char> grid(static_cast<std::size_t>(n * n), 255);
  std::size_t modules = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kModule);
       it != std::sregex_iterator(); ++it, ++modules) {
    const int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]);
    if (x >= n || y >= n) return {};
    grid[static_cast<std::size_t>(y * n + x)] = 0;
  }
  if (modules == 0) return {};
  constexpr int kScale = 8;
  const auto dir =
      std::filesystem::temp_directory_path() / ("kb_web_qr_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto pgm = dir / "qr.pgm";
  {
    std::ofstream out(pgm, std::ios::binary);
    out << "P5\n" << n * kScale << ' ' << n * kScale << "\n255\n";
    for (int y = 0; y < n * kScale; ++y)
      for (int x = 0; x < n * kScale; ++x)
        out.put(static_cast<char>(grid[static_cast<std::size_t>((y / kScale) * n + x / kScale)]));
  }
  std::string text;
  if (FILE* p =
          ::popen(("zbarimg --quiet --raw '" + pgm.string() + "' 2>/dev/null").c_str(), "r")) {
    char buf[512];
    while (std::size_t got = std::fread(buf, 1, sizeof buf, p)) text.append(buf, got);
    ::pclose(p);
  }
  std::filesystem::remove_all(dir);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

TEST_F(WebTest, SchemaDocumentListsTheDomainsClosedLists) {
  auto r = httpGet(port_, "/api/schema");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j, schema::toJson());
  EXPECT_EQ(j["guidance_programs"], nlohmann::json::array({"JKK", "JKM", "JKN"}));
  EXPECT_EQ(j["categories"].size(), schema::kCategories.size());
  // The kiosk shows the explained programmes first, then the others in the order of
  // `programs` (docs/contracts.md §4): every explained one must be a programme.
  for (const auto& p : j["guidance_programs"])
    EXPECT_TRUE(schema::isProgram(p.get<std::string>())) << p;
  EXPECT_EQ(j["programs"], nlohmann::json::array({"JKK", "JKM", "JHT", "JP", "JKN"}));
}

TEST_F(WebTest, QrCodesForPublicGuidanceOnly) {
  ASSERT_EQ(std::system("command -v zbarimg >/dev/null"), 0)
      << "zbarimg missing: scripts/install-deps.sh --with-test-tools installs zbar-tools";
  auto r = httpGet(port_, "/api/qr/JKK.svg?lang=en");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "image/svg+xml");
  EXPECT_TRUE(r.body.starts_with("<svg"));
  // The code holds the public guidance page for that programme and language, nothing else.
  EXPECT_EQ(decodeQr(r.body), "https://example.go.id/panduan/jkk?lang=en");
  EXPECT_EQ(decodeQr(httpGet(port_, "/api/qr/JKM.svg?lang=id").body),
            "https://example.go.id/panduan/jkm?lang=id");
  auto default_lang = httpGet(port_, "/api/qr/JKN.svg");
  EXPECT_EQ(default_lang.status, 200);
  EXPECT_EQ(decodeQr(default_lang.body), "https://example.go.id/panduan/jkn?lang=id");
  EXPECT_EQ(httpGet(port_, "/api/qr/JHT.svg").status, 404);
  EXPECT_EQ(httpGet(port_, "/api/qr/JKM.svg?lang=fr").status, 400);
}

TEST(Qr, EncodesTextAsSvgModules) {
  auto a = qrSvg("https://example.go.id/panduan/jkk?lang=id");
  auto b = qrSvg("https://example.go.id/panduan/jkm?lang=id");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_NE(a->find("viewBox=\"0 0 "), std::string::npos);
  EXPECT_EQ(decodeQr(*a), "https://example.go.id/panduan/jkk?lang=id");
  // The longest URL the config accepts (200 characters) still fits and decodes.
  const std::string longest = "https://example.go.id/" + std::string(178, 'p');
  auto c = qrSvg(longest);
  ASSERT_TRUE(c);
  EXPECT_EQ(decodeQr(*c), longest);
  EXPECT_FALSE(qrSvg(std::string(5000, 'x')));  // beyond QR capacity
}

TEST(Response, LoopbackChecks) {
  EXPECT_TRUE(isLoopbackHost("127.0.0.1:8080"));
  EXPECT_TRUE(isLoopbackHost("localhost"));
  EXPECT_TRUE(isLoopbackHost("[::1]:80"));
  EXPECT_FALSE(isLoopbackHost("127.0.0.1.nip.io"));
  EXPECT_FALSE(isLoopbackHost("10.0.0.1:80"));
  EXPECT_FALSE(isLoopbackHost(""));
  EXPECT_TRUE(isLoopbackOrigin("http://127.0.0.1:8080"));
  EXPECT_FALSE(isLoopbackOrigin("https://127.0.0.1.evil:8080"));
  EXPECT_FALSE(isLoopbackOrigin("null"));
  EXPECT_EQ(queryParam("/x?a=1&lang=en", "lang"), "en");
  EXPECT_EQ(queryParam("/x", "lang"), "");
}

}  // namespace
}  // namespace kb::web
