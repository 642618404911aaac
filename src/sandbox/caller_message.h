// A message the command asked to send (sendto, sendmsg, one of sendmmsg's), copied out of its
// memory once, so that what awf checks is what awf sends: the kernel, let continue, would read
// the destination again, and another thread of the command could have changed it by then.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <vector>

namespace awf::sandbox {

struct CallerMessage {
  std::vector<std::uint8_t> name;     // the destination as given; empty: none
  std::vector<std::uint8_t> control;  // ancillary data as given
  std::span<std::uint8_t> data;       // the bytes to send, in the reader's buffer
  bool truncated = false;  // more than the reader's limit was asked for (data holds the limit)
};

class MessageReader {
 public:
  // Copies at most `limit` bytes of data per message.
  explicit MessageReader(std::size_t limit) : limit_(limit) {}

  // sendto(fd, buffer, length, flags, name, name_length)'s message: 0 or an errno.
  int read_sendto(pid_t pid, std::uint64_t buffer, std::uint64_t length, std::uint64_t name,
                  std::uint64_t name_length, CallerMessage& out);

  // A msghdr already copied from the caller: 0 or an errno (as the kernel's checks give).
  int read_header(pid_t pid, const msghdr& header, CallerMessage& out);

 private:
  std::size_t limit_;
  std::vector<std::uint8_t> buffer_;  // the data of the last message read
  std::vector<iovec> vectors_;        // its iovecs, as the caller gave them
};

}  // namespace awf::sandbox
