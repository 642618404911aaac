// HTTP/1 plumbing shared by the gateway's HTTP front ends (http_forward.cpp, api_proxy.cpp,
// intercept.cpp, explicit_connect.cpp): reading a request head strictly, refusing politely,
// and streaming one message. Beast-heavy: include it in those translation units only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "proxy/access_record.h"
#include "proxy/gateway_context.h"
#include "proxy/request_head.h"
#include "proxy/socket_registry.h"
#include "proxy/splice.h"
#include "proxy/upstream_connect.h"

namespace awf::proxy {

inline constexpr std::size_t kHeaderLimit = 64 * 1024;
inline constexpr std::size_t kBodyChunk = 64 * 1024;
inline constexpr std::uint64_t kSpliceThreshold = 64 * 1024;
inline constexpr auto kRefusalTime = std::chrono::seconds(2);  // answering a malformed or late head
inline constexpr auto kHeaderTimeout = std::chrono::seconds(60);

// Sends a short plain-text response and closes the connection without resetting it: unread
// request bytes would otherwise make the kernel send RST and lose the response. So the
// response is followed by FIN, then what the client still sends (the rest of a refused
// request, a slowloris client's next bytes) is read and discarded until it closes too, for at
// most a short time and a few bytes: a hostile client cannot hold the connection.
using ExtraHeaders = std::vector<std::pair<std::string_view, std::string>>;
boost::asio::awaitable<void> reply_and_close(
    GatewayContext& context, tcp::socket& client, int status, const std::string& body,
    std::string_view content_type = "text/plain; charset=utf-8", const ExtraHeaders& headers = {});

// Why a request is refused, and the status that says so.
struct Refusal {
  int status = 400;
  std::string reason;
};

// The refusals of a plain-socket front end: each records `attempt` and answers in the wording
// verdict.h decides, then closes as reply_and_close does.
// A head that take_request_head refused (the answer is bounded in time, like the drain).
boost::asio::awaitable<void> refuse_head(GatewayContext& context, TrackedSocket& tracked,
                                         tcp::socket& client, Attempt& attempt,
                                         const Refusal& refusal);
// A denied verdict (`attempt` holds its status and reason).
boost::asio::awaitable<void> refuse_verdict(GatewayContext& context, tcp::socket& client,
                                            const Attempt& attempt, const Verdict& verdict);
// A failed connect (after take_connect_failure): an internal address is a denial.
boost::asio::awaitable<void> refuse_connect_failure(GatewayContext& context, tcp::socket& client,
                                                    const Attempt& attempt,
                                                    const Upstream& upstream);

// Removes the hop-by-hop fields (Connection, Keep-Alive, TE, Upgrade... and the names the
// Connection field lists).
void strip_hop_by_hop(boost::beast::http::fields& fields);

struct HeadRead {
  enum class Status { Complete, Closed, TimedOut, TooLarge } status = Status::Closed;
  std::size_t length = 0;  // bytes of the head at the front of the buffer
};

// Reads until the buffer holds a whole request head ("\r\n\r\n"; or up to a bare CR or LF,
// which makes it malformed at once), within the header timeout (a client trickling bytes,
// slowloris-style, is cut off) and the size limit. The timeout cancels the read but leaves
// the socket open, so the client can still be told 408. `Stream`: the client's socket, or a
// TLS stream over it (interception).
template <class Stream>
boost::asio::awaitable<HeadRead> read_request_head(TrackedSocket& tracked, Stream& client,
                                                   boost::beast::flat_buffer& buffer) {
  namespace asio = boost::asio;
  tracked.set_deadline(kHeaderTimeout, TrackedSocket::Expiry::Cancel);
  for (;;) {
    const std::string_view held(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (const std::size_t end = awf::http::find_head_end(held); end != 0) {
      tracked.clear_deadline();
      co_return HeadRead{HeadRead::Status::Complete, end};
    }
    if (buffer.size() >= awf::http::kMaxRequestHead) {
      tracked.clear_deadline();
      co_return HeadRead{HeadRead::Status::TooLarge};
    }
    // The deadline may have passed between two operations, when there was none to cancel.
    if (tracked.expired()) co_return HeadRead{HeadRead::Status::TimedOut};
    const std::size_t room =
        std::min<std::size_t>(16 * 1024, awf::http::kMaxRequestHead - buffer.size());
    // No wait before the read: Asio tries a read at once only when the socket became readable
    // since the last short read, and otherwise queues it without a system call, whereas an
    // explicit wait costs an epoll_ctl each time.
    const auto [error, n] =
        co_await client.async_read_some(buffer.prepare(room), asio::as_tuple(asio::use_awaitable));
    if (error) {
      co_return HeadRead{tracked.expired() ? HeadRead::Status::TimedOut : HeadRead::Status::Closed};
    }
    buffer.commit(n);
  }
}

// After read_request_head: checks the head strictly (smuggling shapes, limits) and only then
// lets Beast parse it into `parser` (the head's bytes are consumed from `buffer`). Returns the
// refusal for a late, oversized, suspicious or malformed head. `head.status` is not Closed.
template <class Parser>
std::optional<Refusal> take_request_head(const HeadRead& head, boost::beast::flat_buffer& buffer,
                                         Parser& parser) {
  if (head.status == HeadRead::Status::TimedOut) {
    return Refusal{
        408, "request head not received within " + std::to_string(kHeaderTimeout.count()) + " s"};
  }
  if (head.status == HeadRead::Status::TooLarge) {
    return Refusal{
        431, "request head larger than " + std::to_string(awf::http::kMaxRequestHead) + " bytes"};
  }
  const std::string_view bytes(static_cast<const char*>(buffer.data().data()), head.length);
  if (auto suspicious = awf::http::check_request_head(bytes)) {
    return Refusal{400, std::move(*suspicious)};
  }
  boost::system::error_code error;
  const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), error);
  if (error || used != head.length || !parser.is_header_done()) {
    return Refusal{400,
                   "malformed HTTP request" + (error ? ": " + error.message() : std::string())};
  }
  buffer.consume(head.length);
  return std::nullopt;
}

using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

// Reads the next response head from `origin` into a fresh `parser` (without a body for the
// answer to a HEAD request).
template <class Stream>
boost::asio::awaitable<boost::system::error_code> read_response_head(
    Stream& origin, boost::beast::flat_buffer& buffer, std::optional<ResponseParser>& parser,
    bool head_request) {
  parser.emplace();
  parser->header_limit(kHeaderLimit);
  parser->body_limit(boost::none);
  if (head_request) parser->skip(true);
  auto [error, n] = co_await boost::beast::http::async_read_header(
      origin, buffer, *parser, boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return error;
}

// The default of forward_message's body observer: nothing looks at the body.
struct IgnoreBody {
  void operator()(std::string_view) const {}
};

// Streams one message (header already parsed into `parser`) from `input` to `output`. Between
// two plain TCP sockets, a long body of known length moves with splice(2). `observe` sees each
// piece of the body (decoded from chunked transfer encoding) once it has been written on: it
// can read the body, never hold it back.
template <bool isRequest, class Input, class Output, class Observe = IgnoreBody>
boost::asio::awaitable<boost::system::error_code> forward_message(
    Input& input, boost::beast::flat_buffer& buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& parser, Output& output,
    std::vector<char>& chunk, std::uint64_t& bytes, Observe observe = {}) {
  namespace asio = boost::asio;
  namespace bhttp = boost::beast::http;
  constexpr bool plain_sockets = std::is_same_v<Input, tcp::socket> &&
                                 std::is_same_v<Output, tcp::socket> &&
                                 std::is_same_v<Observe, IgnoreBody>;
  bhttp::serializer<isRequest, bhttp::buffer_body> serializer{parser.get()};
  const bool splice_body = plain_sockets && !parser.is_done() && !parser.chunked() &&
                           parser.content_length_remaining() &&
                           *parser.content_length_remaining() >= kSpliceThreshold;
  // The head goes out on its own when no body bytes are at hand (a client waiting for
  // "100 Continue", an origin that streams slowly); otherwise it shares a write with them.
  if (splice_body || (!parser.is_done() && buffer.size() == 0)) {
    auto [header_error, header_bytes] =
        co_await bhttp::async_write_header(output, serializer, asio::as_tuple(asio::use_awaitable));
    if (header_error) co_return header_error;
    bytes += header_bytes;
  }
  // A body of known length is moved with splice(2): what is already buffered first, then the
  // rest straight from socket to socket.
  if constexpr (plain_sockets) {
    if (splice_body) {
      std::uint64_t remaining = *parser.content_length_remaining();
      const std::size_t buffered =
          static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), remaining));
      if (buffered > 0) {
        auto [write_error, written] =
            co_await asio::async_write(output, asio::buffer(buffer.data().data(), buffered),
                                       asio::as_tuple(asio::use_awaitable));
        if (write_error) co_return write_error;
        buffer.consume(buffered);
        remaining -= buffered;
        bytes += written;
      }
      const SpliceResult spliced = co_await splice_stream(input, output, remaining);
      bytes += spliced.bytes;
      if (spliced.bytes != remaining) {
        co_return boost::system::error_code(spliced.error ? spliced.error : EPIPE,
                                            boost::system::system_category());
      }
      co_return boost::system::error_code{};
    }
  }
  if (chunk.empty()) chunk.resize(kBodyChunk);  // only connections that relay bodies pay for it
  // Beast reads as much as the buffer has room for, and at least 512 bytes: without room, a
  // TLS body would move in 512-byte records, one read and one write each.
  if (buffer.capacity() < kBodyChunk) buffer.reserve(kBodyChunk);
  do {
    auto& body = parser.get().body();
    if (!parser.is_done()) {
      body.data = chunk.data();
      body.size = chunk.size();
      // read_some, not read: whatever arrived is passed on at once (streamed responses).
      auto [read_error, n] = co_await bhttp::async_read_some(input, buffer, parser,
                                                             asio::as_tuple(asio::use_awaitable));
      if (read_error == bhttp::error::need_buffer) read_error = {};
      if (read_error) co_return read_error;
      body.size = chunk.size() - body.size;
      // No body bytes in this read (a chunk header alone, say): no buffer at all, or the
      // serializer would emit an empty chunk, which is the chunked encoding's end marker.
      body.data = body.size > 0 ? chunk.data() : nullptr;
      body.more = !parser.is_done();
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    const std::size_t read = body.data != nullptr ? body.size : 0;
    auto [write_error, written] =
        co_await bhttp::async_write(output, serializer, asio::as_tuple(asio::use_awaitable));
    bytes += written;
    if (write_error == bhttp::error::need_buffer) write_error = {};
    if (write_error) co_return write_error;
    if (read > 0) observe(std::string_view(chunk.data(), read));
  } while (!serializer.is_done());
  co_return boost::system::error_code{};
}

}  // namespace awf::proxy
