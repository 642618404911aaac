// Mount and file primitives shared by the filesystem-view builders (mounts.cpp,
// home_view.cpp). Each throws SetupError naming the path and errno.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/unique_fd.h"

namespace awf::sandbox {

// Where the host's root is while the view is built in the staging root (mounts.cpp).
constexpr const char* kOldRoot = "/oldroot";

void do_mount(const char* source, const std::string& target, const char* type, unsigned long flags,
              const char* data = nullptr);

// Recursive bind of `source` on `target`, read-only unless `writable`.
void bind(const std::string& source, const std::string& target, bool writable);

// An empty, read-only tmpfs over the directory `target`: what was there cannot be listed,
// read or written.
void hide_directory(const std::string& target);

// Creates the empty file that cover_file binds, as a read-only mount of its own in the staging
// root: a bind mount inherits its source's read-only flag, so no remount is needed (which
// matters where the target is reached through /proc/self/fd). Call once, before cover_file.
void prepare_empty_file();

// Binds the empty read-only file over `target` (any non-directory): the file reads as 0
// bytes, refuses writes, and a Unix socket there refuses connections.
void cover_file(const std::string& target);

// Recreates the symlink `source` at `target` (same link text, not followed). Returns false
// when `source` cannot be read as a link.
bool copy_symlink(const std::string& source, const std::string& target);

// The file the command would reach at `path` (absolute, in the sandbox) as an O_PATH
// descriptor, resolved inside `root` (the new root's descriptor; symlinks stay inside it), or
// an invalid descriptor when there is none.
UniqueFd open_in_view(int root, const std::string& new_root, const std::string& path);

// The descriptor's magic link under new_root/proc (needs a proc mounted there): mounting on it
// covers exactly the file resolved, where a path would be resolved again, symlinks and all.
std::string fd_path(const std::string& new_root, const UniqueFd& fd);

void make_dir(const std::string& path, mode_t mode = 0755);
void make_dirs(const std::string& path);
void write_file(const std::string& path, const std::string& contents, mode_t mode);

bool is_directory(const std::string& path);       // follows symlinks
bool is_real_directory(const std::string& path);  // a directory, not a symlink to one

}  // namespace awf::sandbox
