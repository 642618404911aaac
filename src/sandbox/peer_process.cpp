#include "sandbox/peer_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace awf::sandbox {
namespace {

// A sandbox holds far fewer; the bounds only keep a runaway command from stalling a lookup or
// growing awf's memory.
constexpr std::size_t kMaxProcesses = 4096;
constexpr std::size_t kMaxSockets = 1 << 16;
constexpr std::size_t kMaxFreed = 64;  // per process
// A freed descriptor found closed this many times is not waiting for a new connection.
constexpr int kMaxFreedMisses = 3;
// Open connections read (oldest first) before listing a process's descriptors.
constexpr int kMaxOldestProbes = 8;
constexpr std::size_t kMaxOpen = 4096;  // per process

// A directory stream that owns its descriptor.
class Directory {
 public:
  explicit Directory(UniqueFd fd) : stream_(fd.valid() ? fdopendir(fd.get()) : nullptr) {
    if (stream_ != nullptr) fd.release();
  }
  ~Directory() {
    if (stream_ != nullptr) closedir(stream_);
  }
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  bool valid() const { return stream_ != nullptr; }
  int fd() const { return dirfd(stream_); }
  // The next entry that is a number (pid, tid, fd); nullptr at the end.
  const char* next_number() {
    while (dirent* entry = readdir(stream_)) {
      if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') return entry->d_name;
    }
    return nullptr;
  }

 private:
  DIR* stream_;
};

UniqueFd open_dir_at(int parent, const char* path) {
  return UniqueFd(openat(parent, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

UniqueFd open_proc_dir(int pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d", pid);
  return open_dir_at(AT_FDCWD, path);
}

// Reads a whole /proc file relative to `parent` ("" when it could not be read).
std::string read_file(int parent, const char* path) {
  std::string text;
  const UniqueFd fd(openat(parent, path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return text;
  char chunk[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace

PeerFinder::PeerFinder(UniqueFd diag, pid_t init) : diag_(std::move(diag)), init_(init) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/ns/pid", static_cast<int>(init_));
  struct stat namespace_file {};
  if (stat(path, &namespace_file) < 0) {
    std::fprintf(stderr, "awf: naming the processes behind connections: stat %s: %s\n", path,
                 std::strerror(errno));
    return;
  }
  pid_ns_dev_ = namespace_file.st_dev;
  pid_ns_ino_ = namespace_file.st_ino;
  usable_ = diag_.valid() && init_ > 0;
  // The init's directory is opened now, while its files are still awf's to check: the init
  // makes itself not dumpable before the command starts, after which a rootless awf can no
  // longer read its ns/pid (its task and children lists stay readable).
  if (usable_) {
    Process& init = processes_.emplace_back();
    init.pid = init_;
    init.dir = open_proc_dir(init_);
    if (!init.dir.valid()) processes_.pop_back();
  }
}

PeerProcess PeerFinder::find(const SocketTuple& tuple) {
  if (!usable_) return {};
  return find(socket_inode(tuple));
}

PeerProcess PeerFinder::find(std::uint32_t inode) {
  if (inode == 0) return {};  // gone, or a socket no process holds any more
  const std::lock_guard lock(mutex_);
  return describe(owner_of(inode, true, false), inode);
}

std::optional<PeerProcess> PeerFinder::find_quickly(std::uint32_t inode, bool again) {
  if (inode == 0) return PeerProcess{};
  const std::lock_guard lock(mutex_);
  Process* owner = owner_of(inode, false, again);
  if (owner == nullptr) return std::nullopt;
  return describe(owner, inode);
}

PeerProcess PeerFinder::describe(Process* owner, std::uint32_t inode) {
  if (owner == nullptr) return {};
  PeerProcess found;
  found.pid = owner->pid;
  found.inode = inode;
  if (const auto it = owners_.find(inode); it != owners_.end()) {
    if (owner->open.size() >= kMaxOpen) owner->open.pop_front();
    owner->open.push_back(Connection{it->second.fd, inode});
  }
  // Read every time: an exec changes it (`sh -c 'exec curl ...'`). Opened anew each time:
  // awf keeps one handle per sandbox process (its /proc directory), no more.
  char comm[64];
  std::size_t length = 0;
  if (const UniqueFd fd(openat(owner->dir.get(), "comm", O_RDONLY | O_CLOEXEC)); fd.valid()) {
    const ssize_t n = read(fd.get(), comm, sizeof comm);
    length = n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  while (length > 0 && comm[length - 1] == '\n') --length;
  found.command.assign(comm, length);
  // Most recent owner first: the next connection most likely comes from it again.
  for (auto it = processes_.begin(); it != processes_.end(); ++it) {
    if (&*it == owner) {
      processes_.splice(processes_.begin(), processes_, it);
      break;
    }
  }
  return found;
}

void PeerFinder::release(const PeerProcess& released) {
  if (released.inode == 0) return;
  const std::lock_guard lock(mutex_);
  const auto it = owners_.find(released.inode);
  if (it == owners_.end()) return;
  const Owner owner = it->second;
  owners_.erase(it);
  Process* holder = process(owner.pid);
  if (holder == nullptr) return;
  std::erase_if(holder->open, [&](const Connection& open) { return open.inode == released.inode; });
  holder->fds[owner.fd] = 0;
  std::erase_if(holder->freed, [&](const Freed& freed) { return freed.fd == owner.fd; });
  if (holder->freed.size() >= kMaxFreed) holder->freed.erase(holder->freed.begin());
  holder->freed.push_back(Freed{owner.fd, 0});
}

std::uint32_t PeerFinder::socket_inode(const SocketTuple& tuple) {
  if (!usable_) return 0;
  const std::lock_guard lock(diag_mutex_);
  const std::uint32_t sequence = ++sequence_;
  const std::vector<std::uint8_t> request = inet_diag_request(tuple, sequence);
  // The kernel answers an exact lookup while handling the send: the reply is queued when
  // send() returns, so the receive below never waits.
  if (send(diag_.get(), request.data(), request.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    if (!diag_failed_) {
      diag_failed_ = true;
      std::fprintf(stderr, "awf: naming the processes behind connections: sock_diag send: %s\n",
                   std::strerror(errno));
    }
    return 0;
  }
  alignas(4) std::uint8_t buffer[8192];
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t n = recv(diag_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR && !diag_failed_) {
        diag_failed_ = true;
        std::fprintf(stderr, "awf: naming the processes behind connections: sock_diag recv: %s\n",
                     std::strerror(errno));
      }
      if (errno == EINTR) continue;
      return 0;
    }
    const DiagReply reply = parse_inet_diag_reply({buffer, static_cast<std::size_t>(n)}, sequence);
    switch (reply.status) {
      case DiagReply::Status::Found:
        return reply.inode;
      case DiagReply::Status::Error:  // ENOENT: the socket is gone
      case DiagReply::Status::Malformed:
        return 0;
      case DiagReply::Status::Other:
        break;  // an answer to an earlier request that gave up: read on
    }
  }
  return 0;
}

PeerFinder::Process* PeerFinder::owner_of(std::uint32_t inode, bool thorough, bool again) {
  if (const auto it = owners_.find(inode); it != owners_.end()) {
    if (Process* owner = process(it->second.pid)) return owner;
  }
  if (Process* owner = try_freed(inode)) return owner;
  if (!again) {
    if (Process* owner = try_oldest(inode)) return owner;
  }
  if (!thorough) return nullptr;
  if (Process* owner = list_known(inode)) return owner;
  return walk_tree(inode);
}

PeerFinder::Process* PeerFinder::process(int pid) {
  for (Process& candidate : processes_) {
    if (candidate.pid == pid) return &candidate;
  }
  return nullptr;
}

void PeerFinder::remember(Process& holder, int fd, std::uint32_t inode) {
  if (inode != 0 && owners_.size() >= kMaxSockets) {
    owners_.clear();
    for (Process& other : processes_) other.fds.clear();
  }
  std::uint32_t& slot = holder.fds[fd];
  if (slot != 0 && slot != inode) {
    const auto it = owners_.find(slot);
    if (it != owners_.end() && it->second.pid == holder.pid && it->second.fd == fd)
      owners_.erase(it);
  }
  slot = inode;
  if (inode != 0) owners_[inode] = Owner{holder.pid, fd};
}

// Reads what descriptor `fd` of `holder` is: false when it is not open.
bool PeerFinder::read_fd(Process& holder, int fd, std::uint32_t& inode) {
  char path[24];
  std::snprintf(path, sizeof path, "fd/%d", fd);
  char link[64];
  const ssize_t n = readlinkat(holder.dir.get(), path, link, sizeof link);
  if (n <= 0) return false;
  const auto socket = parse_socket_link({link, static_cast<std::size_t>(n)});
  inode = socket && *socket <= UINT32_MAX ? static_cast<std::uint32_t>(*socket) : 0;
  return true;
}

// The descriptors of ended connections: a new connection usually takes one of them.
PeerFinder::Process* PeerFinder::try_freed(std::uint32_t inode) {
  for (Process& holder : processes_) {
    if (holder.freed.empty()) continue;
    std::vector<Freed> still_free;
    Process* found = nullptr;
    for (auto it = holder.freed.rbegin(); it != holder.freed.rend(); ++it) {
      if (found != nullptr) {
        still_free.push_back(*it);
        continue;
      }
      std::uint32_t seen = 0;
      if (!read_fd(holder, it->fd, seen)) {
        // Still closed: probably about to be reused, keep it a while.
        if (it->misses + 1 < kMaxFreedMisses) still_free.push_back(Freed{it->fd, it->misses + 1});
        continue;
      }
      remember(holder, it->fd, seen);  // reused (by this socket or another): no longer free
      if (seen == inode) found = &holder;
    }
    std::reverse(still_free.begin(), still_free.end());
    holder.freed = std::move(still_free);
    if (found != nullptr) return found;
  }
  return nullptr;
}

// The oldest open connections: clients of similar connections close the oldest first, and
// the next connection then reuses that descriptor (before awf has seen the close).
PeerFinder::Process* PeerFinder::try_oldest(std::uint32_t inode) {
  for (Process& holder : processes_) {
    int probes = 0;
    for (auto it = holder.open.begin(); it != holder.open.end() && probes < kMaxOldestProbes;) {
      ++probes;
      const std::uint32_t old_inode = it->inode;
      std::uint32_t seen = 0;
      if (!read_fd(holder, it->fd, seen)) {
        it = holder.open.erase(it);  // closed: not a connection any more
        continue;
      }
      if (seen == old_inode) {
        ++it;  // still open
        continue;
      }
      remember(holder, it->fd, seen);
      it = holder.open.erase(it);
      if (seen == inode) return &holder;
    }
  }
  return nullptr;
}

// Lists every descriptor of `holder`; false when the process is gone.
bool PeerFinder::list_fds(Process& holder) {
  Directory fds(open_dir_at(holder.dir.get(), "fd"));
  if (!fds.valid()) return false;
  std::unordered_map<int, std::uint32_t> previous = std::move(holder.fds);
  holder.fds.clear();
  for (const auto& [fd, inode] : previous) {
    if (inode != 0) owners_.erase(inode);
  }
  while (const char* name = fds.next_number()) {
    const std::optional<int> fd = parse_decimal(name);
    if (!fd) continue;
    char link[64];
    const ssize_t n = readlinkat(fds.fd(), name, link, sizeof link);
    if (n <= 0) continue;
    const auto socket = parse_socket_link({link, static_cast<std::size_t>(n)});
    const std::uint32_t inode =
        socket && *socket <= UINT32_MAX ? static_cast<std::uint32_t>(*socket) : 0;
    // A socket shared with a child (inherited) stays with the process listed first.
    if (inode != 0 && owners_.contains(inode)) continue;
    remember(holder, *fd, inode);
  }
  return true;
}

PeerFinder::Process* PeerFinder::list_known(std::uint32_t inode) {
  for (auto it = processes_.begin(); it != processes_.end();) {
    // The init holds no connection, and its descriptors may not be readable (not dumpable).
    if (it->pid == init_) {
      ++it;
      continue;
    }
    if (!list_fds(*it)) {
      it = processes_.erase(it);  // exited
      continue;
    }
    if (const auto owner = owners_.find(inode);
        owner != owners_.end() && owner->second.pid == it->pid) {
      return &*it;
    }
    ++it;
  }
  return nullptr;
}

bool PeerFinder::in_sandbox(int proc_dir) const {
  struct stat namespace_file {};
  if (fstatat(proc_dir, "ns/pid", &namespace_file, 0) < 0) return false;
  return namespace_file.st_dev == pid_ns_dev_ && namespace_file.st_ino == pid_ns_ino_;
}

// A process no known one holds the socket: walks the tree from the init (children of every
// thread) to find the processes started since, and lists their descriptors.
PeerFinder::Process* PeerFinder::walk_tree(std::uint32_t inode) {
  std::vector<int> pending{static_cast<int>(init_)};
  std::unordered_set<int> seen;
  Process* found = nullptr;
  while (!pending.empty() && seen.size() < kMaxProcesses) {
    const int pid = pending.back();
    pending.pop_back();
    if (!seen.insert(pid).second) continue;
    Process* holder = process(pid);
    if (holder == nullptr) {
      // Everything is read through this one directory: if the pid was reused since it was
      // listed, the namespace check fails and nothing of the newcomer is read.
      UniqueFd dir = open_proc_dir(pid);
      if (!dir.valid() || !in_sandbox(dir.get())) continue;
      if (processes_.size() >= kMaxProcesses) break;
      holder = &processes_.emplace_back();
      holder->pid = pid;
      holder->dir = std::move(dir);
      if (!list_fds(*holder)) continue;
      if (found == nullptr && owners_.contains(inode)) found = holder;
    }
    Directory tasks(open_dir_at(holder->dir.get(), "task"));
    if (!tasks.valid()) continue;
    while (const char* tid = tasks.next_number()) {
      const std::string path = std::string(tid) + "/children";
      for (const int child : parse_pid_list(read_file(tasks.fd(), path.c_str()))) {
        pending.push_back(child);
      }
    }
  }
  // Processes that left the tree have exited.
  if (seen.size() < kMaxProcesses) {
    std::erase_if(processes_, [&](const Process& known) { return !seen.contains(known.pid); });
  }
  return found;
}

}  // namespace awf::sandbox
