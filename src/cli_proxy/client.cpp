#include "cli_proxy/client.h"

#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_proxy/exec_protocol.h"

namespace awf::cli_proxy {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// What fits in a request once base64 and the arguments are added.
constexpr std::size_t kMaxStdin = kMaxRequestBytes / 4 * 3 - 64 * 1024;
// gh's two streams at their limit, JSON-escaped.
constexpr std::size_t kMaxResponseBytes = 16 * kMaxOutputBytes;

struct Endpoint {
  std::string host, port;
};

// http://HOST:PORT[/] as AWF sets it.
Endpoint parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) throw std::invalid_argument("not http://");
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    throw std::invalid_argument("no port");
  }
  return {rest.substr(0, colon), rest.substr(colon + 1)};
}

// Stdin when it is not a terminal, as AWF's wrapper reads it.
std::string read_stdin() {
  std::string data;
  if (isatty(0)) return data;
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(0, buffer, sizeof buffer);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > kMaxStdin) {
      throw std::length_error("stdin is over " + std::to_string(kMaxStdin) +
                              " bytes, more than the CLI proxy takes");
    }
  }
  return data;
}

std::string current_directory() {
  char path[PATH_MAX];
  return getcwd(path, sizeof path) ? path : "";
}

http::response<http::string_body> post_exec(const Endpoint& endpoint, std::string body) {
  asio::io_context io;
  tcp::socket socket(io);
  asio::connect(socket, tcp::resolver(io).resolve(endpoint.host, endpoint.port));
  http::request<http::string_body> request{http::verb::post, "/exec", 11};
  request.set(http::field::host, endpoint.host + ":" + endpoint.port);
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  http::read(socket, buffer, parser);
  return parser.release();
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

bool is_client_name(const char* argv0) {
  if (argv0 == nullptr) return false;
  const char* slash = std::strrchr(argv0, '/');
  return std::strcmp(slash ? slash + 1 : argv0, "gh") == 0;
}

int run_client(int argc, char** argv) {
  const char* url = std::getenv("AWF_CLI_PROXY_URL");
  const std::string proxy = url && *url ? url : "http://127.0.0.1:" + std::to_string(kPort);
  Endpoint endpoint;
  try {
    endpoint = parse_url(proxy);
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "gh: AWF_CLI_PROXY_URL '%s' is not http://HOST:PORT (%s)\n", proxy.c_str(),
                 error.what());
    return 1;
  }
  http::response<http::string_body> response;
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    response = post_exec(endpoint, format_exec_request(args, current_directory(), read_stdin()));
  } catch (const std::length_error& error) {
    std::fprintf(stderr, "gh: %s\n", error.what());
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gh: CLI proxy unavailable at %s (%s)\n", proxy.c_str(), error.what());
    return 1;
  }
  if (response.result() != http::status::ok) {
    const std::optional<std::string> message = parse_error_message(response.body());
    if (message) {
      std::fprintf(stderr, "gh: %s\n", message->c_str());
    } else {
      std::fprintf(stderr, "gh: CLI proxy returned HTTP %u\n", response.result_int());
    }
    return 1;
  }
  try {
    const ExecResult result = parse_exec_response(response.body());
    write_all(1, result.stdout_data);
    write_all(2, result.stderr_data);
    return result.exit_code;
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "gh: %s\n", error.what());
    return 1;
  }
}

}  // namespace awf::cli_proxy
