// splice_stream between real loopback TCP sockets: the short-copy phase, the switch to
// splice(2), a limit in either phase, and a receiver too slow to take what is read at once.
#include "proxy/splice.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace awf::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A connected pair of loopback TCP sockets.
struct Pair {
  tcp::socket near;
  tcp::socket far;
};

Pair connected(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket near(io);
  near.connect(acceptor.local_endpoint());
  tcp::socket far = acceptor.accept();
  return Pair{std::move(near), std::move(far)};
}

std::vector<char> pattern(std::size_t size) {
  std::vector<char> bytes(size);
  std::uint32_t x = 2463534242u;
  for (char& c : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return bytes;
}

// Sends `data` into `in.far` from a thread (then half-closes it when `close` is set) while
// splice_stream moves `in.near` -> `out.near`; another thread reads everything `out.far` gets.
struct Relayed {
  SpliceResult result;
  std::vector<char> received;
};

Relayed relay(const std::vector<char>& data, bool close, std::optional<std::uint64_t> limit) {
  asio::io_context io;
  Pair in = connected(io);
  Pair out = connected(io);
  std::thread sender([&] {
    asio::write(in.far, asio::buffer(data));
    if (close) in.far.shutdown(tcp::socket::shutdown_send);
  });
  Relayed run;
  std::thread receiver([&] {
    std::vector<char> buffer(65536);
    for (;;) {
      boost::system::error_code error;
      const std::size_t n = out.far.read_some(asio::buffer(buffer), error);
      if (error) break;
      run.received.insert(run.received.end(), buffer.begin(), buffer.begin() + n);
    }
  });
  auto done = asio::co_spawn(io, splice_stream(in.near, out.near, limit), asio::use_future);
  io.run();
  run.result = done.get();
  out.near.shutdown(tcp::socket::shutdown_send);
  sender.join();
  receiver.join();
  return run;
}

// The source's end was reached without error and every byte arrived, in order, once.
void expect_all_relayed(const SpliceResult& result, const std::vector<char>& received,
                        const std::vector<char>& data) {
  EXPECT_EQ(result.error, 0);
  EXPECT_TRUE(result.eof);
  EXPECT_EQ(result.bytes, data.size());
  EXPECT_EQ(received, data);
}

TEST(SpliceStream, ShortExchangeToTheEnd) {
  const std::vector<char> data = pattern(5000);
  const Relayed run = relay(data, true, std::nullopt);
  expect_all_relayed(run.result, run.received, data);
}

TEST(SpliceStream, BulkSwitchesToSpliceAndKeepsEveryByte) {
  const std::vector<char> data = pattern(3 * 1024 * 1024 + 17);
  const Relayed run = relay(data, true, std::nullopt);
  expect_all_relayed(run.result, run.received, data);
}

TEST(SpliceStream, LimitStopsExactlyInEitherPhase) {
  for (const std::uint64_t limit : {std::uint64_t{1000}, std::uint64_t{16384}, std::uint64_t{70000},
                                    std::uint64_t{1024 * 1024 + 1}}) {
    const std::vector<char> data = pattern(2 * 1024 * 1024);
    // The source stays open: only the limit can end the copy.
    const Relayed run = relay(data, false, limit);
    EXPECT_EQ(run.result.error, 0) << limit;
    EXPECT_FALSE(run.result.eof) << limit;
    EXPECT_EQ(run.result.bytes, limit);
    EXPECT_EQ(run.received, std::vector<char>(data.begin(), data.begin() + limit)) << limit;
  }
}

TEST(SpliceStream, SlowReceiverGetsEveryByteInOrder) {
  // Trickled in small pieces, so the copy phase lasts, into a receiver that reads 1 KiB
  // every 200 µs behind small socket buffers: sends come back short (or not at all) and the
  // rest must follow.
  asio::io_context io;
  Pair in = connected(io);
  Pair out = connected(io);
  out.far.set_option(asio::socket_base::receive_buffer_size(4096));
  out.near.set_option(asio::socket_base::send_buffer_size(4096));
  const std::vector<char> data = pattern(120 * 1000);
  std::thread sender([&] {
    for (std::size_t at = 0; at < data.size(); at += 8000) {
      asio::write(in.far,
                  asio::buffer(data.data() + at, std::min<std::size_t>(8000, data.size() - at)));
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    in.far.shutdown(tcp::socket::shutdown_send);
  });
  std::vector<char> received;
  std::thread receiver([&] {
    char buffer[1024];
    for (;;) {
      boost::system::error_code error;
      const std::size_t n = out.far.read_some(asio::buffer(buffer), error);
      if (error) break;
      received.insert(received.end(), buffer, buffer + n);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto done = asio::co_spawn(io, splice_stream(in.near, out.near, std::nullopt), asio::use_future);
  io.run();
  const SpliceResult result = done.get();
  out.near.shutdown(tcp::socket::shutdown_send);
  sender.join();
  receiver.join();
  expect_all_relayed(result, received, data);
}

TEST(SpliceStream, PeerResetIsAnErrorNotASignal) {
  // The receiving end resets its connection while bytes still flow: the relay reports the
  // error (no SIGPIPE ends the process).
  asio::io_context io;
  Pair in = connected(io);
  Pair out = connected(io);
  out.far.set_option(asio::socket_base::linger(true, 0));
  out.far.close();
  const std::vector<char> data = pattern(64 * 1024);
  std::thread sender([&] {
    boost::system::error_code ignored;
    asio::write(in.far, asio::buffer(data), ignored);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    asio::write(in.far, asio::buffer(data), ignored);
    in.far.shutdown(tcp::socket::shutdown_send, ignored);
  });
  auto done = asio::co_spawn(io, splice_stream(in.near, out.near, std::nullopt), asio::use_future);
  io.run();
  const SpliceResult result = done.get();
  sender.join();
  EXPECT_NE(result.error, 0);
}

}  // namespace
}  // namespace awf::proxy
