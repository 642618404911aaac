#include "sandbox/thread_identity.h"

namespace awf::sandbox {

std::vector<gid_t> own_groups() {
  const long count = syscall(SYS_getgroups, 0, nullptr);
  std::vector<gid_t> groups(count > 0 ? static_cast<std::size_t>(count) : 0);
  if (count > 0) syscall(SYS_getgroups, count, groups.data());
  return groups;
}

}  // namespace awf::sandbox
