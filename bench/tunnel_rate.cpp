// tunnel_rate: the new-tunnel load generator of awf's benchmarks (bench/README.md, workload 4)
// and the idle-tunnel holder of the memory workload (workload 5).
//
// Every unit of work is a fresh TCP connection, a CONNECT through the proxy (unless --direct),
// a full TLS handshake (no session resumption) with SNI and certificate verification, one small
// GET with "Connection: close" and the read of its response. The server closes first, so the
// TIME_WAIT states pile up on the server side and the client never runs out of ports.
//
//   tunnel_rate --proxy 127.0.0.1:3128 --host bench.test --cafile ca.pem --concurrency 64
//               --duration 5 [--max 100000] [--path /1k]
//   tunnel_rate --direct 203.0.113.10:443 --host bench.test --cafile ca.pem ...
//   tunnel_rate --proxy ... --hold 1000 --release-file F [--hold-max 60] [--warm 1]
//
// Rate mode prints one JSON line: {"mode":"rate","ok":N,"errors":E,"seconds":S,"rate":R,
// "p50_ms":..,"p99_ms":..,"first_error":".."}. Hold mode opens --hold tunnels (TLS-handshaked,
// then idle), prints {"mode":"hold","held":N,"errors":E,...}, and keeps them open until the
// release file exists or --hold-max seconds have passed. Every socket has a 10 s timeout, and
// the whole run is bounded by --duration/--max (rate) or --hold-max (hold): it always ends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string proxy;   // host:port of the explicit proxy (numeric IPv4)
  std::string direct;  // ip:port of the origin (no proxy)
  std::string host = "bench.test";
  int port = 443;
  std::string path = "/1k";
  std::string cafile;
  int concurrency = 64;
  double duration = 5;
  long max = 0;  // 0: no limit besides duration
  long hold = -1;
  std::string release_file;
  double hold_max = 60;
  int warm = 0;
  int timeout_s = 10;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "tunnel_rate: %s\n"
               "usage: tunnel_rate (--proxy IP:PORT | --direct IP:PORT) [--host NAME] [--port N]\n"
               "       [--path P] [--cafile F] [--concurrency C] [--duration S] [--max N]\n"
               "       [--hold N --release-file F [--hold-max S] [--warm N]]\n",
               why);
  std::exit(2);
}

bool parse_endpoint(const std::string& text, sockaddr_in& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(std::atoi(text.c_str() + colon + 1)));
  return inet_pton(AF_INET, text.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

struct Tunnel {
  int fd = -1;
  SSL* ssl = nullptr;
  void close() {
    if (ssl) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
    ssl = nullptr;
    fd = -1;
  }
};

class Client {
 public:
  explicit Client(const Config& config) : config_(config) {
    const std::string& where = config.proxy.empty() ? config.direct : config.proxy;
    if (!parse_endpoint(where, address_)) usage("bad --proxy/--direct address (numeric IPv4:port)");
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) usage("SSL_CTX_new failed");
    // A full handshake every time: no client-side session cache, no tickets.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
    if (!config.cafile.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, config.cafile.c_str(), nullptr) != 1) {
        usage("cannot load --cafile");
      }
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    request_ = "GET " + config.path + " HTTP/1.1\r\nHost: " + config.host +
               "\r\nUser-Agent: awf-bench-tunnel-rate\r\nConnection: close\r\n\r\n";
    connect_ = "CONNECT " + config.host + ":" + std::to_string(config.port) +
               " HTTP/1.1\r\nHost: " + config.host + ":" + std::to_string(config.port) +
               "\r\nUser-Agent: awf-bench-tunnel-rate\r\n\r\n";
  }
  ~Client() { SSL_CTX_free(ctx_); }

  // Connect, CONNECT (unless direct) and TLS handshake. Empty string on success.
  std::string open(Tunnel& t) const {
    t.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t.fd < 0) return std::string("socket: ") + std::strerror(errno);
    timeval tv{config_.timeout_s, 0};
    setsockopt(t.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(t.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    setsockopt(t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(t.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) < 0) {
      return std::string("connect: ") + std::strerror(errno);
    }
    if (!config_.proxy.empty()) {
      if (!write_all(t.fd, connect_)) return std::string("write CONNECT: ") + std::strerror(errno);
      // Read the proxy's answer byte-exactly up to the blank line: the TLS bytes follow it.
      std::string head;
      char c;
      while (head.size() < 8192) {
        const ssize_t n = ::recv(t.fd, &c, 1, 0);
        if (n <= 0) return "CONNECT: connection closed before the response";
        head.push_back(c);
        if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) break;
      }
      if (head.compare(0, 9, "HTTP/1.1 ") != 0 && head.compare(0, 9, "HTTP/1.0 ") != 0) {
        return "CONNECT: bad response";
      }
      if (head.compare(9, 3, "200") != 0) return "CONNECT: " + head.substr(0, head.find('\r'));
    }
    t.ssl = SSL_new(ctx_);
    SSL_set_fd(t.ssl, t.fd);
    SSL_set_tlsext_host_name(t.ssl, config_.host.c_str());
    SSL_set1_host(t.ssl, config_.host.c_str());
    if (SSL_connect(t.ssl) != 1) {
      char buf[160];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      ERR_clear_error();
      return std::string("TLS handshake: ") + buf;
    }
    return {};
  }

  // One GET with Connection: close, read to the end. Empty string on success.
  std::string request(Tunnel& t) const {
    if (SSL_write(t.ssl, request_.data(), static_cast<int>(request_.size())) <= 0) {
      ERR_clear_error();
      return "TLS write failed";
    }
    char buf[16384];
    std::size_t total = 0;
    bool status_ok = false;
    for (;;) {
      const int n = SSL_read(t.ssl, buf, sizeof buf);
      if (n <= 0) break;
      if (total == 0) status_ok = n >= 12 && std::memcmp(buf + 8, " 200", 4) == 0;
      total += static_cast<std::size_t>(n);
    }
    ERR_clear_error();
    if (total == 0) return "empty response";
    if (!status_ok) return "non-200 response";
    return {};
  }

 private:
  static bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  const Config& config_;
  sockaddr_in address_{};
  SSL_CTX* ctx_ = nullptr;
  std::string request_;
  std::string connect_;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}

struct Shared {
  std::atomic<long> ok{0};
  std::atomic<long> errors{0};
  std::atomic<long> started{0};
  std::mutex mutex;
  std::string first_error;
  std::vector<double> latencies_ms;
  void error(const std::string& what) {
    errors.fetch_add(1);
    std::lock_guard lock(mutex);
    if (first_error.empty()) first_error = what;
  }
};

int run_rate(const Config& config, Client& client) {
  Shared shared;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(config.duration);
  std::vector<std::thread> threads;
  for (int i = 0; i < config.concurrency; ++i) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      while (Clock::now() < deadline) {
        if (config.max > 0 && shared.started.fetch_add(1) >= config.max) break;
        const auto t0 = Clock::now();
        Tunnel t;
        std::string err = client.open(t);
        if (err.empty()) err = client.request(t);
        t.close();
        if (!err.empty()) {
          shared.error(err);
          // A refusing target must not turn this into a busy loop.
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        shared.ok.fetch_add(1);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      std::lock_guard lock(shared.mutex);
      shared.latencies_ms.insert(shared.latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const long ok = shared.ok.load();
  const double p50 = percentile(shared.latencies_ms, 0.50);
  const double p99 = percentile(shared.latencies_ms, 0.99);
  std::printf(
      "{\"mode\":\"rate\",\"ok\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"rate\":%.1f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"concurrency\":%d,\"first_error\":\"%s\"}\n",
      ok, shared.errors.load(), seconds, seconds > 0 ? ok / seconds : 0.0, p50, p99,
      config.concurrency, json_escape(shared.first_error).c_str());
  std::fflush(stdout);
  return ok > 0 ? 0 : 1;
}

int run_hold(const Config& config, Client& client) {
  // Warm-up: complete requests first, so that lazily initialised state is in place.
  Shared shared;
  for (int i = 0; i < config.warm; ++i) {
    Tunnel t;
    std::string err = client.open(t);
    if (err.empty()) err = client.request(t);
    t.close();
    if (!err.empty()) shared.error(err);
  }
  const auto start = Clock::now();
  const auto hold_deadline = start + std::chrono::duration<double>(config.hold_max);
  std::vector<Tunnel> tunnels(static_cast<std::size_t>(std::max(0L, config.hold)));
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  const int workers = std::max(1, std::min<int>(config.concurrency, static_cast<int>(tunnels.size())));
  for (int i = 0; i < workers && !tunnels.empty(); ++i) {
    threads.emplace_back([&] {
      for (;;) {
        const std::size_t k = next.fetch_add(1);
        if (k >= tunnels.size() || Clock::now() > hold_deadline) break;
        const std::string err = client.open(tunnels[k]);
        if (err.empty()) {
          shared.ok.fetch_add(1);
        } else {
          tunnels[k].close();
          shared.error(err);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"mode\":\"hold\",\"held\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"first_error\":\"%s\"}\n",
      shared.ok.load(), shared.errors.load(), seconds, json_escape(shared.first_error).c_str());
  std::fflush(stdout);
  struct stat st {};
  while (Clock::now() < hold_deadline) {
    if (!config.release_file.empty() && ::stat(config.release_file.c_str(), &st) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : tunnels) t.close();
  return shared.errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--proxy") config.proxy = value();
    else if (a == "--direct") config.direct = value();
    else if (a == "--host") config.host = value();
    else if (a == "--port") config.port = std::atoi(value().c_str());
    else if (a == "--path") config.path = value();
    else if (a == "--cafile") config.cafile = value();
    else if (a == "--concurrency") config.concurrency = std::max(1, std::atoi(value().c_str()));
    else if (a == "--duration") config.duration = std::atof(value().c_str());
    else if (a == "--max") config.max = std::atol(value().c_str());
    else if (a == "--hold") config.hold = std::atol(value().c_str());
    else if (a == "--release-file") config.release_file = value();
    else if (a == "--hold-max") config.hold_max = std::atof(value().c_str());
    else if (a == "--warm") config.warm = std::atoi(value().c_str());
    else if (a == "--timeout") config.timeout_s = std::max(1, std::atoi(value().c_str()));
    else usage(("unknown argument " + a).c_str());
  }
  if (config.proxy.empty() == config.direct.empty()) usage("give exactly one of --proxy, --direct");
  if (config.duration <= 0 || config.duration > 600) usage("--duration must be in (0, 600]");
  if (config.hold_max <= 0 || config.hold_max > 600) usage("--hold-max must be in (0, 600]");

  // Hold mode keeps two descriptors' worth of headroom per tunnel.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  Client client(config);
  return config.hold >= 0 ? run_hold(config, client) : run_rate(config, client);
}
