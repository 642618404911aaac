#include "sandbox/netlink.h"

#include <linux/netlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/route_netlink.h"

namespace awf::sandbox {
namespace {

constexpr std::size_t kAnswerSize = 8192;  // an acknowledgement is far smaller

class NetlinkSocket {
 public:
  NetlinkSocket() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    if (!fd_.valid()) throw errno_error("netlink: socket");
  }

  unsigned next_sequence() { return ++seq_; }

  // Sends one acknowledged request and waits for the kernel's answer; returns 0 or -errno.
  int transact(const std::vector<std::uint8_t>& request, unsigned sequence) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_.get(), request.data(), request.size(), 0,
               reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
      return -errno;
    }
    std::vector<std::uint8_t> buffer(kAnswerSize);
    for (;;) {
      const ssize_t n = recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n < 0) return -errno;
      const Acknowledgement answer =
          parse_acknowledgement({buffer.data(), static_cast<std::size_t>(n)}, sequence);
      switch (answer.status) {
        case Acknowledgement::Status::Ack: return 0;
        case Acknowledgement::Status::Error: return -answer.error;
        case Acknowledgement::Status::Malformed: return -EBADMSG;
        case Acknowledgement::Status::Other: break;
      }
    }
  }

 private:
  UniqueFd fd_;
  unsigned seq_ = static_cast<unsigned>(time(nullptr));
};

int loopback_index() {
  const unsigned index = if_nametoindex("lo");
  if (index == 0) throw errno_error("netlink: no loopback interface");
  return static_cast<int>(index);
}

int add_local_default_route(NetlinkSocket& nl, unsigned char family, int oif) {
  const unsigned sequence = nl.next_sequence();
  return nl.transact(local_default_route_request(family, oif, sequence), sequence);
}

}  // namespace

void bring_up_loopback() {
  NetlinkSocket nl;
  const unsigned sequence = nl.next_sequence();
  if (const int rc = nl.transact(link_up_request(loopback_index(), sequence), sequence); rc < 0) {
    throw SetupError(std::string("netlink: set lo up: ") + std::strerror(-rc));
  }
}

void add_local_default_routes() {
  NetlinkSocket nl;
  const int lo = loopback_index();
  if (const int rc = add_local_default_route(nl, AF_INET, lo); rc < 0) {
    throw SetupError(std::string("netlink: add IPv4 local default route: ") + std::strerror(-rc));
  }
  // Without IPv6 in the kernel there is no IPv6 path to close; anything else is fatal.
  if (const int rc = add_local_default_route(nl, AF_INET6, lo);
      rc < 0 && rc != -EAFNOSUPPORT && rc != -EOPNOTSUPP) {
    throw SetupError(std::string("netlink: add IPv6 local default route: ") + std::strerror(-rc));
  }
}

}  // namespace awf::sandbox
