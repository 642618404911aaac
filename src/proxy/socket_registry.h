// The open sockets of one worker, so that stop() can close them (and their records get
// written), with optional deadlines: a per-worker sweeper closes a socket whose deadline
// passed. This replaces a timer per read or connect, which cost a timerfd update per request.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <list>

namespace awf::proxy {

using boost::asio::ip::tcp;

class ConnectionRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    tcp::socket* socket;
    Clock::time_point deadline = Clock::time_point::max();
    bool expired = false;
    bool cancel_only = false;  // on expiry, cancel the pending operation but keep the socket
  };
  using Handle = std::list<Entry>::iterator;
  Handle add(tcp::socket* socket) { return entries_.insert(entries_.end(), Entry{socket}); }
  void remove(Handle handle) { entries_.erase(handle); }
  void close_all();
  bool empty() const { return entries_.empty(); }
  void sweep(Clock::time_point now);

 private:
  std::list<Entry> entries_;
};

// A socket in its worker's registry for as long as a handler uses it.
class TrackedSocket {
 public:
  TrackedSocket(ConnectionRegistry& registry, tcp::socket* socket)
      : registry_(registry), handle_(registry.add(socket)) {}
  ~TrackedSocket() { registry_.remove(handle_); }
  TrackedSocket(const TrackedSocket&) = delete;
  TrackedSocket& operator=(const TrackedSocket&) = delete;

  // Until clear_deadline(), the socket is closed once `timeout` has passed: the pending
  // operation fails and expired() tells that this was the reason. With Expiry::Cancel the
  // pending operation is cancelled instead and the socket stays open (to send an answer such
  // as 408 before closing): the handler must check expired() before each operation it starts,
  // as an expiry between two operations cancels nothing.
  enum class Expiry { Close, Cancel };
  void set_deadline(std::chrono::steady_clock::duration timeout, Expiry expiry = Expiry::Close) {
    handle_->deadline = std::chrono::steady_clock::now() + timeout;
    handle_->cancel_only = expiry == Expiry::Cancel;
    handle_->expired = false;
  }
  void clear_deadline() { handle_->deadline = std::chrono::steady_clock::time_point::max(); }
  bool expired() const { return handle_->expired; }

 private:
  ConnectionRegistry& registry_;
  ConnectionRegistry::Handle handle_;
};

}  // namespace awf::proxy
