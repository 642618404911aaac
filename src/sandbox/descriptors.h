// Descriptors the sandbox must not inherit.
#pragma once

namespace awf::sandbox {

// Closes every descriptor above 2 except `keep` (-1: none). Why: a descriptor awf's caller
// left open (a socket to any host, a host file, a daemon's socket) would otherwise pass into
// the command through fork and exec, beside the gateway and unrecorded. Returns false when
// some descriptor could not be closed (the caller must not start the command then).
bool close_inherited_descriptors(int keep);

}  // namespace awf::sandbox
