// Moves bytes between two TCP sockets: short exchanges through a small per-thread buffer, bulk
// transfers through a kernel pipe with splice(2), so that their bytes never enter user space.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

namespace awf::proxy {

struct SpliceResult {
  std::uint64_t bytes = 0;     // bytes written to `to`
  bool eof = false;            // `from` reached end of stream
  int error = 0;               // errno of a failure (0: none)
};

// Copies from `from` to `to` until `from` ends, an error, or exactly `limit` bytes (when set).
// Reads go through a 16 KiB per-thread buffer until one fills it; then a pipe is created and
// the rest moves with splice(2). Idle tunnels hold neither buffer nor pipe. Each transfer
// updates `*activity` when given (for idle timeouts).
boost::asio::awaitable<SpliceResult> splice_stream(
    boost::asio::ip::tcp::socket& from, boost::asio::ip::tcp::socket& to,
    std::optional<std::uint64_t> limit,
    std::chrono::steady_clock::time_point* activity = nullptr);

}  // namespace awf::proxy
