#include "proxy/splice.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

#include "common/unique_fd.h"

namespace asio = boost::asio;
using boost::asio::ip::tcp;

namespace awf::proxy {
namespace {

constexpr int kPipeSize = 256 * 1024;
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

int error_of(const boost::system::error_code& ec) { return ec.value() ? ec.value() : EIO; }

}  // namespace

asio::awaitable<SpliceResult> splice_stream(tcp::socket& from, tcp::socket& to,
                                            std::optional<std::uint64_t> limit,
                                            std::chrono::steady_clock::time_point* activity) {
  SpliceResult result;
  if (limit && *limit == 0) co_return result;
  {
    auto [ec] = co_await from.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      result.error = error_of(ec);
      co_return result;
    }
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
    result.error = errno;
    co_return result;
  }
  UniqueFd pipe_read(fds[0]);
  UniqueFd pipe_write(fds[1]);
  int capacity = fcntl(pipe_write.get(), F_SETPIPE_SZ, kPipeSize);
  if (capacity <= 0) capacity = fcntl(pipe_write.get(), F_GETPIPE_SZ);
  if (capacity <= 0) capacity = 64 * 1024;

  // Asio has already made both descriptors non-blocking for its own asynchronous operations;
  // the setter would still cost an ioctl each, so it runs only when that has not happened.
  boost::system::error_code ignored;
  if (!from.native_non_blocking()) from.native_non_blocking(true, ignored);
  if (!to.native_non_blocking()) to.native_non_blocking(true, ignored);
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
        co_return result;
      } else if (in_pipe == 0) {
        auto [ec] =
            co_await from.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
        if (ec) {
          result.error = error_of(ec);
          co_return result;
        }
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
          co_return result;
        }
      } else {
        result.error = n < 0 ? errno : EPIPE;
        co_return result;
      }
      continue;
    }
    if (result.eof || (limit && result.bytes >= *limit)) co_return result;
  }
}

}  // namespace awf::proxy
