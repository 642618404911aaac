#include "proxy/splice.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <vector>

#include "common/unique_fd.h"

namespace asio = boost::asio;
using boost::asio::ip::tcp;

namespace awf::proxy {
namespace {

constexpr int kPipeSize = 256 * 1024;
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
// Short exchanges (a TLS handshake, an API call and its answer) are copied through this much
// of a per-thread buffer: a pipe costs two descriptors and five system calls to set up and
// tear down, more than the copy it would save. A read that fills the buffer means a bulk
// transfer, which moves with splice(2) from then on.
constexpr std::size_t kCopyChunk = 16 * 1024;

int error_of(const boost::system::error_code& ec) {
  return ec.value() ? ec.value() : EIO;
}

// Shared by every relay of the thread: used only between a read and the write that follows
// it, with no suspension in between.
std::array<char, kCopyChunk>& copy_buffer() {
  thread_local std::array<char, kCopyChunk> buffer;
  return buffer;
}

// Waits until `from` has bytes (or its end, or an error); false with result.error set when
// the wait itself failed.
asio::awaitable<bool> wait_readable(tcp::socket& from, SpliceResult& result) {
  auto [ec] = co_await from.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
  if (ec) result.error = error_of(ec);
  co_return !ec;
}

enum class Phase { Done, Bulk };

// Copies through the thread's buffer until `from` ends, an error, the limit, or a read that
// fills the buffer (then returns Bulk with nothing held back: the rest goes through a pipe).
// Every read follows a wait: the previous read was short, so the socket is drained.
asio::awaitable<Phase> copy_short(tcp::socket& from, tcp::socket& to,
                                  std::optional<std::uint64_t> limit,
                                  std::chrono::steady_clock::time_point* activity,
                                  SpliceResult& result) {
  for (;;) {
    std::size_t want = kCopyChunk;
    if (limit) {
      want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *limit - result.bytes));
    }
    if (want == 0) co_return Phase::Done;
    if (!co_await wait_readable(from, result)) co_return Phase::Done;
    auto& buffer = copy_buffer();
    const ssize_t n = recv(from.native_handle(), buffer.data(), want, MSG_DONTWAIT);
    if (n == 0) {
      result.eof = true;
      co_return Phase::Done;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      result.error = errno;
      co_return Phase::Done;
    }
    const auto got = static_cast<std::size_t>(n);
    const ssize_t sent = send(to.native_handle(), buffer.data(), got, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      result.error = errno;
      co_return Phase::Done;
    }
    const std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    if (done < got) {
      // `to` is slow: what it did not take moves out of the shared buffer before waiting.
      std::vector<char> rest(buffer.data() + done, buffer.data() + got);
      auto [ec, written] =
          co_await asio::async_write(to, asio::buffer(rest), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        result.bytes += done + written;
        result.error = error_of(ec);
        co_return Phase::Done;
      }
    }
    result.bytes += got;
    if (activity != nullptr) *activity = std::chrono::steady_clock::now();
    if (got == kCopyChunk) co_return Phase::Bulk;
  }
}

// Moves the rest through a pipe with splice(2).
asio::awaitable<void> splice_bulk(tcp::socket& from, tcp::socket& to,
                                  std::optional<std::uint64_t> limit,
                                  std::chrono::steady_clock::time_point* activity,
                                  SpliceResult& result) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
    result.error = errno;
    co_return;
  }
  UniqueFd pipe_read(fds[0]);
  UniqueFd pipe_write(fds[1]);
  int capacity = fcntl(pipe_write.get(), F_SETPIPE_SZ, kPipeSize);
  if (capacity <= 0) capacity = fcntl(pipe_write.get(), F_GETPIPE_SZ);
  if (capacity <= 0) capacity = 64 * 1024;

  std::size_t in_pipe = 0;
  for (;;) {
    const std::uint64_t accounted = result.bytes + in_pipe;
    const bool want_more = !result.eof && (!limit || accounted < *limit);
    if (want_more && in_pipe < static_cast<std::size_t>(capacity)) {
      std::size_t want = static_cast<std::size_t>(capacity) - in_pipe;
      if (limit) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *limit - accounted));
      const ssize_t n =
          splice(from.native_handle(), nullptr, pipe_write.get(), nullptr, want, kSpliceFlags);
      if (n > 0) {
        in_pipe += static_cast<std::size_t>(n);
      } else if (n == 0) {
        result.eof = true;
      } else if (errno != EAGAIN) {
        result.error = errno;
        co_return;
      } else if (in_pipe == 0) {
        if (!co_await wait_readable(from, result)) co_return;
        continue;
      }
    }
    if (in_pipe > 0) {
      const ssize_t n =
          splice(pipe_read.get(), nullptr, to.native_handle(), nullptr, in_pipe, kSpliceFlags);
      if (n > 0) {
        in_pipe -= static_cast<std::size_t>(n);
        result.bytes += static_cast<std::uint64_t>(n);
        if (activity != nullptr) *activity = std::chrono::steady_clock::now();
      } else if (n < 0 && errno == EAGAIN) {
        auto [ec] =
            co_await to.async_wait(tcp::socket::wait_write, asio::as_tuple(asio::use_awaitable));
        if (ec) {
          result.error = error_of(ec);
          co_return;
        }
      } else {
        result.error = n < 0 ? errno : EPIPE;
        co_return;
      }
      continue;
    }
    if (result.eof || (limit && result.bytes >= *limit)) co_return;
  }
}

}  // namespace

asio::awaitable<SpliceResult> splice_stream(tcp::socket& from, tcp::socket& to,
                                            std::optional<std::uint64_t> limit,
                                            std::chrono::steady_clock::time_point* activity) {
  SpliceResult result;
  // Asio has already made both descriptors non-blocking for its own asynchronous operations;
  // the setter would still cost an ioctl each, so it runs only when that has not happened.
  boost::system::error_code ignored;
  if (!from.native_non_blocking()) from.native_non_blocking(true, ignored);
  if (!to.native_non_blocking()) to.native_non_blocking(true, ignored);
  if (co_await copy_short(from, to, limit, activity, result) == Phase::Bulk) {
    co_await splice_bulk(from, to, limit, activity, result);
  }
  co_return result;
}

}  // namespace awf::proxy
