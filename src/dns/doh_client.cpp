#include "dns/doh_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>

#include "dns/message.h"

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

namespace awf::dns {
namespace {

// Below a stub resolver's own timeout (glibc: 5 s), so the client gets SERVFAIL rather than
// silence. Covers waiting in line, connecting and the exchange.
constexpr auto kQueryTimeout = std::chrono::seconds(4);
// Head, chunk framing and a 64 KiB answer fit well within this.
constexpr std::size_t kMaxResponseBytes = 512 * 1024;
constexpr std::size_t kReadChunk = 4096;
constexpr std::uint16_t kFlagQr = 0x8000;

std::string no_answer_text() {
  return "no answer within " + std::to_string(kQueryTimeout.count()) + " s";
}

}  // namespace

struct DohClient::Impl : std::enable_shared_from_this<Impl> {
  struct Job {
    std::vector<std::uint8_t> wire;  // the query with ID 0
    std::chrono::steady_clock::time_point deadline;
    std::optional<ForwardResult> result;
    asio::steady_timer* wake = nullptr;  // the waiting exchange(), woken by cancelling it
  };
  // How one request/response on the connection went.
  struct Outcome {
    std::optional<std::vector<std::uint8_t>> answer;
    bool keep_alive = false;
    bool answered = false;  // the server sent at least one byte
    std::string error;
  };

  asio::io_context& io;
  const DohServer server;
  const std::string label;  // "DNS over HTTPS (https://...)", for messages
  std::optional<ssl::stream<tcp::socket>> stream;
  std::vector<std::uint8_t> input;
  std::deque<std::shared_ptr<Job>> queue;
  bool pumping = false;
  bool stopped = false;
  asio::steady_timer watchdog;
  std::uint64_t watch = 0;  // which send() the watchdog is armed for
  bool expired = false;
  std::string last_warning;

  Impl(asio::io_context& context, DohServer s)
      : io(context),
        server(std::move(s)),
        label("DNS over HTTPS (" + doh_url_text(server.url) + ")"),
        watchdog(context) {}

  void close() {
    stream.reset();
    input.clear();
  }

  // Aborts whatever the connection is doing (the coroutine using it resumes with an error
  // and then closes it: an SSL stream must not be destroyed under a pending operation).
  void abort_io() {
    boost::system::error_code ignored;
    if (stream) stream->next_layer().close(ignored);
  }

  void warn(const std::string& error) {
    if (!server.warn || error == last_warning) return;
    last_warning = error;
    std::fprintf(stderr, "awf: warning: %s\n", error.c_str());
  }

  asio::awaitable<std::string> connect() {
    stream.emplace(io, *server.tls);
    auto [error, endpoint] = co_await asio::async_connect(stream->next_layer(), server.endpoints,
                                                          asio::as_tuple(asio::use_awaitable));
    if (error) co_return "cannot connect: " + error.message();
    SSL* native = stream->native_handle();
    // The certificate must name the server as the URL does: its IP address for an IP
    // literal, else the host name (also sent as SNI).
    if (server.url.ip_literal) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), server.url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(native, server.url.host.c_str());
      SSL_set1_host(native, server.url.host.c_str());
    }
    auto [handshake_error] = co_await stream->async_handshake(
        ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (handshake_error) {
      const long verify = SSL_get_verify_result(native);
      co_return "TLS handshake failed: " +
          (verify != X509_V_OK ? std::string("certificate verification failed (") +
                                     X509_verify_cert_error_string(verify) + ")"
                               : handshake_error.message());
    }
    co_return "";
  }

  asio::awaitable<Outcome> round_trip(const std::vector<std::uint8_t>& wire) {
    Outcome outcome;
    const std::string request = build_doh_request(server.url, wire);
    auto [write_error, written] = co_await asio::async_write(
        *stream, asio::buffer(request), asio::as_tuple(asio::use_awaitable));
    if (write_error) {
      outcome.error = "sending the query failed: " + write_error.message();
      co_return outcome;
    }
    input.clear();
    std::array<std::uint8_t, kReadChunk> chunk;
    for (bool at_eof = false;;) {
      DohResponse response = parse_doh_response(input, at_eof);
      if (response.state == DohResponse::State::Invalid) {
        outcome.error = response.error;
        co_return outcome;
      }
      if (response.state == DohResponse::State::Complete) {
        // One request at a time: bytes after the answer mean a confused server.
        outcome.keep_alive = response.keep_alive && response.consumed == input.size();
        outcome.answer = std::move(response.message);
        co_return outcome;
      }
      if (input.size() > kMaxResponseBytes) {
        outcome.error = "response too large";
        co_return outcome;
      }
      auto [read_error, count] = co_await stream->async_read_some(
          asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      input.insert(input.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(count));
      outcome.answered = outcome.answered || count > 0;
      if (read_error == asio::error::eof || read_error == ssl::error::stream_truncated) {
        at_eof = true;
      } else if (read_error) {
        outcome.error = "reading the answer failed: " + read_error.message();
        co_return outcome;
      }
    }
  }

  asio::awaitable<ForwardResult> send(const Job& job) {
    ForwardResult result;
    if (std::chrono::steady_clock::now() >= job.deadline) {
      result.error = label + ": " + no_answer_text() + " (queued behind other queries)";
      co_return result;
    }
    expired = false;
    const std::uint64_t mine = ++watch;
    watchdog.expires_at(job.deadline);
    watchdog.async_wait([self = shared_from_this(), mine](const boost::system::error_code& ec) {
      // A wake-up already queued when the query finished must not abort the next one.
      if (ec || self->watch != mine) return;
      self->expired = true;
      self->abort_io();
    });
    struct Disarm {
      Impl& impl;
      ~Disarm() {
        ++impl.watch;
        impl.watchdog.cancel();
      }
    } disarm{*this};
    for (int attempt = 0;; ++attempt) {
      const bool reused = stream.has_value();
      if (!reused) {
        const std::string error = co_await connect();
        if (!error.empty()) {
          close();
          result.error = label + ": " + (expired ? "connecting timed out" : error);
          co_return result;
        }
      }
      Outcome outcome = co_await round_trip(job.wire);
      if (outcome.answer) {
        if (!outcome.keep_alive) close();
        const std::vector<std::uint8_t>& answer = *outcome.answer;
        // ID 0 went out; the answer must carry it and be a response.
        if ((((answer[0] << 8) | answer[1]) != 0) || ((answer[2] << 8) & kFlagQr) == 0) {
          close();
          result.error = label + ": the answer does not match the query";
          co_return result;
        }
        result.response = std::move(*outcome.answer);
        co_return result;
      }
      close();
      if (expired) {
        result.error = label + ": " + no_answer_text();
        co_return result;
      }
      // A kept-alive connection the server closed while idle fails at its next use, before
      // any answer: once more on a fresh one.
      if (reused && !outcome.answered && attempt == 0) continue;
      result.error = label + ": " + outcome.error;
      co_return result;
    }
  }

  // `self`: the client stays alive while queries are in flight.
  asio::awaitable<void> pump([[maybe_unused]] std::shared_ptr<Impl> self) {
    pumping = true;
    while (!queue.empty() && !stopped) {
      std::shared_ptr<Job> job = queue.front();
      queue.pop_front();
      ForwardResult result = co_await send(*job);
      if (result.error.empty()) {
        last_warning.clear();
      } else if (!stopped) {
        warn(result.error);
      }
      job->result = std::move(result);
      if (job->wake != nullptr) job->wake->cancel();
    }
    pumping = false;
  }
};

DohClient::DohClient(asio::io_context& io, DohServer server)
    : impl_(std::make_shared<Impl>(io, std::move(server))) {}

DohClient::~DohClient() { shutdown(); }

void DohClient::shutdown() {
  impl_->stopped = true;
  impl_->abort_io();
  impl_->watchdog.cancel();
  for (const auto& job : impl_->queue) {
    if (job->wake != nullptr) job->wake->cancel();
  }
  impl_->queue.clear();
}

asio::awaitable<ForwardResult> DohClient::exchange(std::vector<std::uint8_t> query) {
  auto impl = impl_;
  if (impl->stopped) co_return ForwardResult{{}, "resolver stopped"};
  if (query.size() < 12) co_return ForwardResult{{}, "malformed query"};
  const auto id = static_cast<std::uint16_t>((query[0] << 8) | query[1]);
  auto job = std::make_shared<Impl::Job>();
  job->wire = std::move(query);
  set_message_id(job->wire, 0);
  job->deadline = std::chrono::steady_clock::now() + kQueryTimeout;
  asio::steady_timer wake(impl->io, asio::steady_timer::time_point::max());
  job->wake = &wake;
  impl->queue.push_back(job);
  if (!impl->pumping) {
    impl->pumping = true;
    asio::co_spawn(impl->io, impl->pump(impl), asio::detached);
  }
  co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
  job->wake = nullptr;
  ForwardResult result = job->result ? std::move(*job->result)
                                     : ForwardResult{{}, "resolver stopped"};
  if (result.error.empty()) set_message_id(result.response, id);
  co_return result;
}

}  // namespace awf::dns
