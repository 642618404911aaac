#include "sandbox/caller_message.h"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "sandbox/caller_view.h"

namespace awf::sandbox {
namespace {

constexpr std::size_t kMaxVectors = 1024;       // UIO_MAXIOV: more is EMSGSIZE
constexpr std::size_t kMaxControl = 64 * 1024;  // more than optmem_max allows anyway

// The caller's ranges cut at `limit` bytes in all; `truncated` says whether that cut any.
std::vector<iovec> cut_at(std::span<const iovec> ranges, std::size_t limit, bool& truncated) {
  std::vector<iovec> cut;
  std::size_t left = limit;
  truncated = false;
  for (const iovec& range : ranges) {
    if (range.iov_len == 0) continue;
    if (left == 0) {
      truncated = true;
      break;
    }
    const std::size_t take = std::min(range.iov_len, left);
    cut.push_back({range.iov_base, take});
    left -= take;
    truncated = truncated || take < range.iov_len;
  }
  return cut;
}

}  // namespace

int MessageReader::read_sendto(pid_t pid, std::uint64_t buffer, std::uint64_t length,
                               std::uint64_t name, std::uint64_t name_length, CallerMessage& out) {
  // The name's length is an int in the kernel.
  const std::size_t name_size = static_cast<std::uint32_t>(name_length);
  if (name_size > sizeof(sockaddr_storage)) return EINVAL;
  out.name.resize(name_size);
  out.control.clear();
  const std::size_t size = std::min<std::uint64_t>(length, SSIZE_MAX);
  out.truncated = size > limit_;
  buffer_.resize(std::min(size, limit_));
  // The destination and the data in one read.
  const iovec local[] = {{out.name.data(), name_size}, {buffer_.data(), buffer_.size()}};
  const iovec remote[] = {{reinterpret_cast<void*>(name), name_size},
                          {reinterpret_cast<void*>(buffer), buffer_.size()}};
  const std::size_t wanted = name_size + buffer_.size();
  if (wanted > 0 && process_vm_readv(pid, local, 2, remote, 2, 0) != static_cast<ssize_t>(wanted)) {
    return EFAULT;
  }
  out.data = {buffer_.data(), buffer_.size()};
  return 0;
}

int MessageReader::read_header(pid_t pid, const msghdr& header, CallerMessage& out) {
  // As the kernel's copy_msghdr_from_user: no name pointer means no name.
  const std::size_t name_length = header.msg_name != nullptr ? header.msg_namelen : 0;
  if (name_length > sizeof(sockaddr_storage)) return EINVAL;
  if (header.msg_iovlen > kMaxVectors) return EMSGSIZE;
  if (header.msg_controllen > kMaxControl) return ENOBUFS;
  out.name.resize(name_length);
  vectors_.resize(header.msg_iovlen);
  out.control.resize(header.msg_controllen);
  // One read for the three: a header in the hot path (a DNS query, a datagram) costs a call less.
  const iovec local[] = {{out.name.data(), name_length},
                         {vectors_.data(), vectors_.size() * sizeof(iovec)},
                         {out.control.data(), out.control.size()}};
  const iovec remote[] = {{header.msg_name, name_length},
                          {header.msg_iov, vectors_.size() * sizeof(iovec)},
                          {header.msg_control, out.control.size()}};
  const std::size_t wanted = local[0].iov_len + local[1].iov_len + local[2].iov_len;
  if (wanted > 0 && process_vm_readv(pid, local, 3, remote, 3, 0) != static_cast<ssize_t>(wanted)) {
    return EFAULT;
  }
  std::size_t total = 0;
  for (const iovec& range : vectors_) {
    if (range.iov_len > static_cast<std::size_t>(SSIZE_MAX) - total) return EINVAL;
    total += range.iov_len;
  }
  const std::vector<iovec> cut = cut_at(vectors_, limit_, out.truncated);
  buffer_.resize(std::min(total, limit_));
  if (!read_memory_ranges(pid, cut, buffer_.data())) return EFAULT;
  out.data = {buffer_.data(), buffer_.size()};
  return 0;
}

}  // namespace awf::sandbox
