// The socket supervisor's view of a calling process (socket_supervisor.h): its memory, its
// thread group, its name, and files as its root and working directory resolve them. Every
// read of memory is of a caller stopped in a system call that the supervisor answers.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/unique_fd.h"

namespace awf::sandbox {

// Reads `size` bytes at `address` in the caller's memory; false when they are not readable.
bool read_memory(pid_t pid, std::uint64_t address, void* out, std::size_t size);

// Reads the caller's ranges `remote` (at most IOV_MAX) one after another into `out`, which
// holds their total size; false when any of them is not readable.
bool read_memory_ranges(pid_t pid, std::span<const iovec> remote, std::uint8_t* out);

// Writes `size` bytes to `address` in the caller's memory; false when it is not writable.
bool write_memory(pid_t pid, std::uint64_t address, const void* data, std::size_t size);

// The process a thread belongs to (a notification names the calling thread).
pid_t thread_group_of(pid_t tid);

// The thread's comm (its command name), "" when gone.
std::string comm_of(pid_t pid);

// Opens `path` as the caller would reach it: in its root, from its working directory when the
// path is relative (with the permissions of the calling thread: the supervisor acts as the
// command). The result is what awf decides on and connects or sends to. Invalid with `error`
// set when there is nothing there (or the caller is gone: ESRCH).
UniqueFd open_in_caller_view(pid_t pid, const std::string& path, int& error);

}  // namespace awf::sandbox
