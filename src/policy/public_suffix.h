#pragma once

#include <libpsl.h>

namespace awf::policy {

// The public-suffix list compiled into awf (Debian's publicsuffix package at build time, see
// docs/architecture.md), loaded on first use and kept for the process's life. Never null.
// Every public-suffix question goes through this, never libpsl's psl_builtin(): the library's
// own list is as old as the libpsl build, and a static binary has no system list to load.
const psl_ctx_t* public_suffixes();

}  // namespace awf::policy
