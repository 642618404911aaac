// The names of the run directories in awf's private log store (log_store.h):
// "<UTC start, ms>Z-<32 random bits>", e.g. "20261207T021102.123Z-9f3c0a1b". Sorting the names
// sorts the runs by start time. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace awf::cli {

// `start_ms`: milliseconds since the Unix epoch.
std::string run_dir_name(std::int64_t start_ms, std::uint32_t random);

// Whether `name` has exactly the form run_dir_name() gives: anything else in the store was not
// created by awf and is never read as a run.
bool is_run_dir_name(std::string_view name);

}  // namespace awf::cli
