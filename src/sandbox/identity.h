// Who the command runs as, and how it is stripped of every privilege before exec.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace awf::sandbox {

struct Identity {
  uid_t uid = 65534;
  gid_t gid = 65534;
  std::vector<gid_t> groups;  // supplementary groups
  std::string name;           // user name ("" when the uid has no passwd entry)
  std::string home;           // HOME for the command ("/" when unknown)
};

// --user NAME|UID[:GID]. Throws std::invalid_argument with a message for a bad value.
Identity identity_from_spec(const std::string& spec);

// The default when --user is not given: SUDO_UID/SUDO_GID under sudo; the invoking user when
// not root; uid/gid 65534 when root calls awf without sudo (`notice` then says so).
Identity default_identity(std::string& notice);

// In the command's process, right before exec: clears the bounding and ambient capability
// sets, switches groups and uid/gid, clears the remaining capability sets and sets
// no_new_privs. `set_groups` is false in a rootless sandbox (setgroups is denied there).
// Returns an error message, or "" on success.
std::string drop_privileges(const Identity& identity, bool set_groups);

}  // namespace awf::sandbox
