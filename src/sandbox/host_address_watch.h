// Keeps policy::HostAddresses current for awf's network namespace: the local routes read once
// at start, read again whenever the kernel announces an address or route change (an interface
// coming up, DHCP, a VPN), on a thread of its own so that the gateway never waits on netlink.
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "common/unique_fd.h"
#include "policy/host_addresses.h"

namespace awf::sandbox {

class HostAddressWatch {
 public:
  // Reads the local routes (throws SetupError when netlink fails) and starts following them.
  HostAddressWatch();
  ~HostAddressWatch();
  HostAddressWatch(const HostAddressWatch&) = delete;
  HostAddressWatch& operator=(const HostAddressWatch&) = delete;

  // The addresses as last read; safe from any thread.
  std::shared_ptr<const policy::HostAddresses> current() const { return current_.load(); }

 private:
  void follow();

  std::atomic<std::shared_ptr<const policy::HostAddresses>> current_;
  UniqueFd events_;  // netlink, subscribed to address and route changes
  UniqueFd stop_;    // eventfd: the destructor's signal to the thread
  std::thread thread_;
};

// The local routes of the calling thread's network namespace, read now. Throws SetupError.
policy::HostAddresses read_host_addresses();

}  // namespace awf::sandbox
