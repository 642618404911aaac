// Network setup inside the sandbox's fresh network namespace, through rtnetlink:
// bring `lo` up and make every address local, so no packet can ever leave the namespace.
#pragma once

namespace awf::sandbox {

// `ip link set lo up`.
void bring_up_loopback();

// `ip route add local default dev lo` and `ip -6 route add local default dev lo` (table local).
// Every connect to any address then lands on a local socket (awf's transparent listeners, or
// nothing: an immediate refusal); every datagram is delivered locally. The IPv6 route is
// skipped when the kernel has IPv6 disabled.
void add_local_default_routes();

}  // namespace awf::sandbox
