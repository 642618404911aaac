// Puts blocked attempts that are not HTTP on the record: TCP to a port nobody serves, UDP to
// anything but DNS, echo requests. It reads the kernel-filtered raw sockets the sandbox opened
// in its namespace and logs what inspect_loopback_packet() recognizes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "audit/log_writer.h"
#include "common/unique_fd.h"

namespace awf::proxy {

class LoopbackWatch {
 public:
  LoopbackWatch(boost::asio::io_context& io, audit::LogWriter& log);
  ~LoopbackWatch();

  void serve(UniqueFd raw_socket);  // one per call: TCP or ICMP, IPv4 or IPv6
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace awf::proxy
