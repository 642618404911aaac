#include "sandbox/identity.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace awf::sandbox {
namespace {

std::optional<unsigned long> parse_id(const std::string& text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  unsigned long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0xfffffffeUL) {
    return std::nullopt;
  }
  return value;
}

void fill_from_passwd(Identity& identity, const passwd* pw) {
  identity.name = pw->pw_name;
  identity.home = pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/";
  int count = 64;
  std::vector<gid_t> groups(count);
  if (getgrouplist(pw->pw_name, identity.gid, groups.data(), &count) < 0) {
    groups.resize(count);
    getgrouplist(pw->pw_name, identity.gid, groups.data(), &count);
  }
  groups.resize(count);
  identity.groups = groups;
}

Identity identity_for_uid(uid_t uid, std::optional<gid_t> gid) {
  Identity identity;
  identity.uid = uid;
  identity.home = "/";
  if (const passwd* pw = getpwuid(uid)) {
    identity.gid = gid.value_or(pw->pw_gid);
    fill_from_passwd(identity, pw);
  } else {
    identity.gid = gid.value_or(uid);
  }
  if (identity.groups.empty()) identity.groups = {identity.gid};
  return identity;
}

}  // namespace

Identity identity_from_spec(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  const std::string user = spec.substr(0, colon);
  std::optional<gid_t> gid;
  if (colon != std::string::npos) {
    const std::string group_name = spec.substr(colon + 1);
    if (auto id = parse_id(group_name)) {
      gid = static_cast<gid_t>(*id);
    } else if (const struct group* gr = getgrnam(group_name.c_str())) {
      gid = gr->gr_gid;
    } else {
      throw std::invalid_argument("--user '" + spec + "': unknown group '" + group_name + "'");
    }
  }
  if (auto id = parse_id(user)) return identity_for_uid(static_cast<uid_t>(*id), gid);
  const passwd* pw = user.empty() ? nullptr : getpwnam(user.c_str());
  if (pw == nullptr) throw std::invalid_argument("--user '" + spec + "': unknown user '" + user + "'");
  return identity_for_uid(pw->pw_uid, gid);
}

Identity default_identity(std::string& notice) {
  if (geteuid() != 0) return identity_for_uid(getuid(), getgid());
  const char* sudo_uid = std::getenv("SUDO_UID");
  const char* sudo_gid = std::getenv("SUDO_GID");
  if (sudo_uid != nullptr) {
    const auto uid = parse_id(sudo_uid);
    const auto gid = sudo_gid ? parse_id(sudo_gid) : std::nullopt;
    if (uid && *uid != 0) {
      return identity_for_uid(static_cast<uid_t>(*uid),
                              gid ? std::optional<gid_t>(static_cast<gid_t>(*gid)) : std::nullopt);
    }
  }
  notice = "awf: running the command as uid/gid 65534 (nobody); use --user to choose another user";
  Identity nobody = identity_for_uid(65534, 65534);
  nobody.groups = {65534};
  return nobody;
}

std::string drop_privileges(const Identity& identity, bool set_groups) {
  // The bounding set caps what any later exec (setuid binaries, file capabilities) could
  // regain; clearing it needs CAP_SETPCAP, which we hold only until the uid switch.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
      return std::string("drop bounding capability: ") + std::strerror(errno);
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return std::string("clear ambient capabilities: ") + std::strerror(errno);
  }
  if (set_groups && setgroups(identity.groups.size(), identity.groups.data()) < 0) {
    return std::string("setgroups: ") + std::strerror(errno);
  }
  if (setresgid(identity.gid, identity.gid, identity.gid) < 0) {
    return std::string("setresgid: ") + std::strerror(errno);
  }
  if (setresuid(identity.uid, identity.uid, identity.uid) < 0) {
    return std::string("setresuid: ") + std::strerror(errno);
  }
  // Effective, permitted and inheritable sets: empty even when the command runs as uid 0.
  cap_t empty = cap_init();
  const int rc = cap_set_proc(empty);
  cap_free(empty);
  if (rc < 0) return std::string("clear capabilities: ") + std::strerror(errno);
  // No exec may grant privileges again (setuid bits, file capabilities).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    return std::string("no_new_privs: ") + std::strerror(errno);
  }
  return "";
}

}  // namespace awf::sandbox
