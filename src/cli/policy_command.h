// `awf policy explain`: which rule of a domain policy allows or denies a target, and why.
#pragma once

namespace awf::cli {

// Exit 0 when the target is allowed, 1 when it is denied, 2 for a bad argument (thrown as
// an exception; the caller prints it).
int run_policy(int argc, char** argv);

}  // namespace awf::cli
