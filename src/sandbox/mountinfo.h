// /proc/self/mountinfo, read for the mounts at or below a path: what a read-only bind must
// make read-only one by one where the kernel cannot do it for the whole tree at once
// (mount_setattr with AT_RECURSIVE, Linux 5.12). Pure: the caller reads the file. Mount
// points are host paths anyone can name (a directory called "a b\n..."), so the parser takes
// nothing on trust.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace awf::sandbox {

// The mount points of `mountinfo` equal to `path` or below it, in the file's order (a parent
// before the mounts on top of it); octal escapes (\040 and the like) decoded. Lines without a
// fifth field are skipped.
std::vector<std::string> mounts_at_or_below(std::string_view mountinfo, std::string_view path);

}  // namespace awf::sandbox
