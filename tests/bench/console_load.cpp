// Load client for the console benchmark (docs/PERFORMANCE.md, console
// sections): N keep-alive HTTPS connections with client certificates (Boost.Beast
// over OpenSSL) on ONE io_context and one thread, so that the client costs
// little next to the server it measures (nginx or the node). Connections are
// opened and handshaken before timing; operator certificates are dealt out
// round-robin over the connections, so that a per-operator rate limit is not
// what is measured.
//
// Closed loop (default): each connection sends its next request as soon as the
// answer is in: throughput at saturation.
// Open loop (--rate R): R requests/s offered in all, each connection sending
// one request every N/R s, the connections' schedules spread evenly. A
// connection still waiting for an answer sends its next request late; the
// latency is measured from when the request was due, not when it went out, so
// a slow answer is not hidden by the requests it delayed ("late" counts them).
//
// Prints one JSON object: requests/s, latency p50/p90/p99/p99.9/max in ms,
// answer status counts, transport errors. A benchmark: never part of make test.
//
// usage: console_load --host 127.0.0.1 --port P --ca CA.pem
//          --cert OP1.pem --key OP1.key [--cert OP2.pem --key OP2.key ...]
//          --paths FILE [--clients 50] [--seconds 10] [--warmup 1] [--rate 0]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string ca;
  std::vector<std::string> certs, keys;
  std::string paths_file;
  int clients = 50;
  double seconds = 10;
  double warmup = 1;
  double rate = 0;  // requests/s offered in all; 0 = closed loop
};

struct Shared {
  std::vector<std::string> paths;
  std::size_t next_path = 0;
  Clock::time_point start, measure_from, end;
  std::vector<double> latencies_ms;  // of requests due in [measure_from, end)
  std::map<unsigned, std::size_t> statuses;
  std::size_t errors = 0, late = 0, connected = 0, ready_waiting = 0;
  std::string first_error;
};

void noteError(Shared& s, const std::string& what) {
  ++s.errors;
  if (s.first_error.empty()) s.first_error = what;
}

net::awaitable<void> connection(int index, const Options& o, ssl::context& ctx, Shared& s,
                                net::steady_timer& ready) {
  using Stream = beast::ssl_stream<beast::tcp_stream>;
  auto ex = co_await net::this_coro::executor;
  beast::error_code ec;
  net::ip::tcp::resolver resolver(ex);
  auto found =
      co_await resolver.async_resolve(o.host, o.port, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    noteError(s, "resolve: " + ec.message());
    co_return;
  }
  Stream stream(ex, ctx);
  co_await beast::get_lowest_layer(stream).async_connect(
      found, net::redirect_error(net::use_awaitable, ec));
  if (!ec) beast::get_lowest_layer(stream).socket().set_option(net::ip::tcp::no_delay(true), ec);
  if (!ec)
    co_await stream.async_handshake(ssl::stream_base::client,
                                    net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    noteError(s, "connect/handshake: " + ec.message());
    co_return;
  }
  ++s.connected;
  // Wait until every connection is up (the last one cancels the timer).
  co_await ready.async_wait(net::redirect_error(net::use_awaitable, ec));

  const bool open = o.rate > 0;
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(open ? o.clients / o.rate : 0));
  auto due = s.start + (open ? period * index / o.clients : Clock::duration::zero());
  net::steady_timer timer(ex);
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, o.host);
  req.set(http::field::user_agent, "kb-console-load");
  req.keep_alive(true);
  for (;;) {
    if (open) {
      if (due >= s.end) break;
      if (Clock::now() < due) {
        timer.expires_at(due);
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      } else if (Clock::now() - due > std::chrono::milliseconds(1)) {
        ++s.late;
      }
    } else {
      due = Clock::now();
      if (due >= s.end) break;
    }
    req.target(s.paths[s.next_path++ % s.paths.size()]);
    co_await http::async_write(stream, req, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      noteError(s, "write: " + ec.message());
      break;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      noteError(s, "read: " + ec.message());
      break;
    }
    const auto done = Clock::now();
    if (due >= s.measure_from && done <= s.end + std::chrono::seconds(5)) {
      s.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - due).count());
      ++s.statuses[parser.get().result_int()];
    }
    if (!parser.get().keep_alive()) {
      noteError(s, "server closed the connection");
      break;
    }
    if (open) due += period;
  }
  beast::get_lowest_layer(stream).close();
}

bool parseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = v;
    else if (a == "--ca")
      o.ca = v;
    else if (a == "--cert")
      o.certs.push_back(v);
    else if (a == "--key")
      o.keys.push_back(v);
    else if (a == "--paths")
      o.paths_file = v;
    else if (a == "--clients")
      o.clients = std::stoi(v);
    else if (a == "--seconds")
      o.seconds = std::stod(v);
    else if (a == "--warmup")
      o.warmup = std::stod(v);
    else if (a == "--rate")
      o.rate = std::stod(v);
    else
      return false;
  }
  return !o.port.empty() && !o.ca.empty() && !o.certs.empty() && o.certs.size() == o.keys.size() &&
         !o.paths_file.empty() && o.clients > 0 && o.seconds > 0;
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    if (!parseArgs(argc, argv, o)) {
      std::fprintf(stderr,
                   "usage: console_load --port P --ca CA --cert C --key K [--cert C --key K ...] "
                   "--paths FILE [--host H] [--clients N] [--seconds S] [--warmup S] [--rate R]\n");
      return 2;
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "console_load: bad number in the arguments\n");
    return 2;
  }
  Shared s;
  {
    std::ifstream in(o.paths_file);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) s.paths.push_back(line);
  }
  if (s.paths.empty()) {
    std::fprintf(stderr, "console_load: no paths in %s\n", o.paths_file.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<ssl::context>> contexts;
  try {
    for (std::size_t i = 0; i < o.certs.size(); ++i) {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      ctx->load_verify_file(o.ca);
      ctx->set_verify_mode(ssl::verify_peer);
      ctx->use_certificate_chain_file(o.certs[i]);
      ctx->use_private_key_file(o.keys[i], ssl::context::pem);
      contexts.push_back(std::move(ctx));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "console_load: %s\n", e.what());
    return 1;
  }

  net::io_context io(1);
  net::steady_timer ready(io, Clock::time_point::max());
  for (int i = 0; i < o.clients; ++i)
    net::co_spawn(
        io, connection(i, o, *contexts[static_cast<std::size_t>(i) % contexts.size()], s, ready),
        net::detached);
  // Start the clock once every connection is up (or has failed).
  net::steady_timer poll(io);
  std::function<void()> waitUp = [&] {
    poll.expires_after(std::chrono::milliseconds(5));
    poll.async_wait([&](const beast::error_code&) {
      if (s.connected + s.errors < static_cast<std::size_t>(o.clients)) return waitUp();
      s.start = Clock::now();
      s.measure_from = s.start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.warmup));
      s.end = s.measure_from +
              std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
      ready.cancel();
    });
  };
  waitUp();
  io.run();

  auto& lat = s.latencies_ms;
  std::sort(lat.begin(), lat.end());
  std::string statuses;
  for (const auto& [code, n] : s.statuses)
    statuses +=
        (statuses.empty() ? "" : ", ") + ("\"" + std::to_string(code) + "\": ") + std::to_string(n);
  const double rps = static_cast<double>(lat.size()) / o.seconds;
  std::printf(
      "{\"mode\": \"%s\", \"clients\": %d, \"connected\": %zu, \"operators\": %zu, "
      "\"offered_rps\": %.0f, \"seconds\": %.1f, \"requests\": %zu, \"rps\": %.0f, "
      "\"p50_ms\": %.2f, \"p90_ms\": %.2f, \"p99_ms\": %.2f, \"p999_ms\": %.2f, "
      "\"max_ms\": %.2f, \"statuses\": {%s}, \"late\": %zu, \"errors\": %zu%s%s%s}\n",
      o.rate > 0 ? "open" : "closed", o.clients, s.connected, contexts.size(), o.rate, o.seconds,
      lat.size(), rps, percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99),
      percentile(lat, 0.999), lat.empty() ? 0.0 : lat.back(), statuses.c_str(), s.late, s.errors,
      s.first_error.empty() ? "" : ", \"first_error\": \"", s.first_error.c_str(),
      s.first_error.empty() ? "" : "\"");
  return s.errors == 0 ? 0 : 1;
}
