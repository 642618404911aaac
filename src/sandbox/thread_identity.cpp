#include "sandbox/thread_identity.h"

namespace awf::sandbox {

OwnIdentity own_identity() {
  OwnIdentity own;
  uid_t saved_uid = 0;
  gid_t saved_gid = 0;
  getresuid(&own.uid, &own.euid, &saved_uid);
  getresgid(&own.gid, &own.egid, &saved_gid);
  own.root = own.euid == 0;
  const long count = syscall(SYS_getgroups, 0, nullptr);
  own.groups.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
  if (count > 0) syscall(SYS_getgroups, count, own.groups.data());
  return own;
}

}  // namespace awf::sandbox
