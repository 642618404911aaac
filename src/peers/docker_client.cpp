#include "peers/docker_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "peers/peer_plan.h"

namespace awf::peers {
namespace {

using Clock = std::chrono::steady_clock;

// An inspect answer is a few KiB; anything near this is not one.
constexpr std::size_t kMaxResponse = 4 * 1024 * 1024;

// Waits for `events` until the deadline; false when it passed.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd entry{fd, events, 0};
    const int ready = poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

std::string unreachable(const std::string& path, const std::string& why) {
  return "cannot reach the Docker daemon at unix://" + path + " (" + why +
         "); start dockerd, or point --docker-host (or DOCKER_HOST) at its socket";
}

UniqueFd connect_socket(const std::string& path, Clock::time_point deadline) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    throw PeerError(unreachable(path, "socket path too long"));
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) throw PeerError(unreachable(path, std::string("socket: ") + std::strerror(errno)));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
  // A full backlog makes a non-blocking unix connect fail with EAGAIN: wait, then retry once.
  if (errno == EAGAIN && wait_for(fd.get(), POLLOUT, deadline) &&
      connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    return fd;
  }
  throw PeerError(unreachable(path, std::string("connect: ") + std::strerror(errno)));
}

void send_all(int fd, const std::string& request, const std::string& path,
              Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline)) {
      continue;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      throw PeerError(unreachable(path, std::string("send: ") + std::strerror(errno)));
    }
  }
}

std::string receive_all(int fd, const std::string& path, std::chrono::milliseconds timeout,
                        Clock::time_point deadline) {
  std::string raw;
  char buffer[16384];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) return raw;
    if (n > 0) {
      raw.append(buffer, static_cast<std::size_t>(n));
      if (raw.size() > kMaxResponse) {
        throw PeerError("the Docker daemon at unix://" + path + " sent an answer over 4 MiB");
      }
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      throw PeerError(unreachable(path, std::string("receive: ") + std::strerror(errno)));
    }
    if (!wait_for(fd, POLLIN, deadline)) {
      throw PeerError("the Docker daemon at unix://" + path + " did not answer within " +
                      std::to_string(timeout.count() / 1000) + " s; is it hung?");
    }
  }
}

}  // namespace

HttpResponse docker_get(const std::string& socket_path, const std::string& target,
                        std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  const UniqueFd fd = connect_socket(socket_path, deadline);
  send_all(fd.get(),
           "GET " + target + " HTTP/1.1\r\nHost: docker\r\nUser-Agent: awf\r\n"
           "Accept: application/json\r\nConnection: close\r\n\r\n",
           socket_path, deadline);
  const std::string raw = receive_all(fd.get(), socket_path, timeout, deadline);
  std::optional<HttpResponse> response = parse_http_response(raw);
  if (!response) {
    throw PeerError("unix://" + socket_path +
                    " did not answer as the Docker Engine API does (not an HTTP response)");
  }
  return std::move(*response);
}

std::vector<Peer> look_up_peers(const std::vector<std::string>& names,
                                const std::string& docker_host, const std::string& host_origin) {
  std::vector<Peer> peers;
  for (const std::string& name : names) {
    const std::string prefix = "--topology-attach " + name + ": ";
    try {
      if (const std::string problem = name_problem(name); !problem.empty()) {
        throw PeerError("not a container name: " + problem);
      }
      std::string socket_path;
      try {
        socket_path = docker_socket_path(docker_host);
      } catch (const PeerError& error) {
        throw PeerError("Docker host from " + host_origin + " " + error.what());
      }
      // The name was checked above: nothing in it needs escaping in the path.
      const HttpResponse response = docker_get(socket_path, "/containers/" + name + "/json");
      if (response.status == 404) {
        throw PeerError("no such container (the Docker daemon says: " +
                        docker_error_message(response.body) +
                        "); start it before awf (docker ps -a lists the containers)");
      }
      if (response.status != 200) {
        throw PeerError("the Docker daemon answered " + std::to_string(response.status) + ": " +
                        docker_error_message(response.body));
      }
      ContainerInfo info;
      try {
        info = parse_inspect(response.body);
      } catch (const InspectError& error) {
        throw PeerError(std::string("the Docker daemon's description of the container is not "
                                    "usable: ") + error.what());
      }
      peers.push_back(plan_peer(name, info));
    } catch (const PeerError& error) {
      throw PeerError(prefix + error.what());
    }
  }
  try {
    check_peers(peers);
  } catch (const PeerError& error) {
    throw PeerError(std::string("--topology-attach: ") + error.what());
  }
  return peers;
}

}  // namespace awf::peers
