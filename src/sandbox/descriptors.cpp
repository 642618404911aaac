#include "sandbox/descriptors.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace awf::sandbox {
namespace {

// close_range(2) (Linux 5.9); false when the kernel lacks it.
bool close_range_of(unsigned first, unsigned last) {
  if (first > last) return true;
  return syscall(SYS_close_range, first, last, 0) == 0;
}

// Before 5.9: every descriptor /proc lists, one by one (the directory's own included, which
// is skipped and closed last).
bool close_listed(int keep) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return false;
  const int own = dirfd(dir);
  bool closed_all = true;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == keep || fd == own) continue;
    if (close(fd) < 0 && errno != EBADF) closed_all = false;
  }
  closedir(dir);
  return closed_all;
}

}  // namespace

bool close_inherited_descriptors(int keep) {
  const bool ranged = keep > 2 ? close_range_of(3, static_cast<unsigned>(keep) - 1) &&
                                     close_range_of(static_cast<unsigned>(keep) + 1, UINT_MAX)
                               : close_range_of(3, UINT_MAX);
  return ranged || close_listed(keep);
}

}  // namespace awf::sandbox
