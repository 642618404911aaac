#include "cli_proxy/server.h"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "audit/audit_record.h"

namespace awf::cli_proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Time to send a whole request (the client sends it at once).
constexpr std::chrono::seconds kRequestTimeout{30};

std::string now_text() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return audit::format_timestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

http::response<http::string_body> reply(http::status status, std::string body) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

struct Server::Impl {
  asio::io_context io{static_cast<int>(kThreads)};
  tcp::acceptor acceptor{io};
  const Executor& executor;
  UniqueFd log;
  std::mutex log_mutex;
  std::vector<std::thread> threads;

  Impl(UniqueFd listener, const Executor& exec, UniqueFd log_fd)
      : executor(exec), log(std::move(log_fd)) {
    acceptor.assign(tcp::v4(), listener.release());
  }

  // Returns "" or why the line could not be written (whole: a short write is a failure).
  std::string write_log(const std::string& line) {
    const std::lock_guard lock(log_mutex);
    const ssize_t written = write(log.get(), line.data(), line.size());
    if (written == static_cast<ssize_t>(line.size())) return "";
    return written < 0 ? std::strerror(errno) : "short write";
  }

  http::response<http::string_body> exec(const std::string& body) {
    const auto started = std::chrono::steady_clock::now();
    ExecRequest request;
    try {
      request = parse_exec_request(body);
    } catch (const std::invalid_argument& error) {
      write_log(error_line(now_text(), error.what()));
      return reply(http::status::bad_request, format_error(error.what()));
    }
    if (const std::optional<std::string> refused = refusal(request.args)) {
      write_log(denied_line(now_text(), request.args, *refused));
      return reply(http::status::forbidden, format_error(*refused));
    }
    // No call without a record (unlike AWF, whose log is best effort): gh runs only once its
    // exec_start line is written.
    if (const std::string problem = write_log(start_line(now_text(), request.args, request.cwd));
        !problem.empty()) {
      return reply(http::status::service_unavailable,
                   format_error("the CLI proxy cannot write its access log (" + problem +
                                "); the call is refused"));
    }
    const ExecResult result = executor.run(request.args, allowed_env(request), request.stdin_data);
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    write_log(done_line(now_text(), request.args, result, elapsed.count()));
    return reply(http::status::ok, format_exec_response(result));
  }

  http::response<http::string_body> route(const http::request<http::string_body>& request) {
    if (request.method() == http::verb::get && request.target() == "/health") {
      return reply(http::status::ok, R"({"status":"ok","service":"cli-proxy"})");
    }
    if (request.method() == http::verb::post && request.target() == "/exec") {
      return exec(request.body());
    }
    return reply(http::status::not_found,
                 format_error("Not found: " + std::string(request.method_string()) + " " +
                              std::string(request.target())));
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBytes);
    stream.expires_after(kRequestTimeout);
    const auto [read_error, read_bytes] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    http::response<http::string_body> response;
    if (read_error == http::error::body_limit) {
      write_log(error_line(now_text(), "Request body too large"));
      response = reply(http::status::payload_too_large,
                       format_error("Request body exceeds maximum size of " +
                                    std::to_string(kMaxRequestBytes) + " bytes"));
    } else if (read_error) {
      co_return;
    } else {
      // gh runs on this thread: the other threads keep serving.
      response = route(parser.get());
    }
    stream.expires_after(kRequestTimeout);
    co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (error) continue;
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

Server::Server(UniqueFd listener, const Executor& executor, UniqueFd log)
    : impl_(std::make_unique<Impl>(std::move(listener), executor, std::move(log))) {}

Server::~Server() {
  stop();
}

void Server::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  for (unsigned i = 0; i < kThreads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

void Server::stop() {
  if (impl_->threads.empty()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace awf::cli_proxy
