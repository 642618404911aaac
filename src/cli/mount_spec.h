// -v/--mount HOST:CONTAINER[:ro|rw]. Pure parsing: the caller checks that HOST exists.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace awf::cli {

struct MountSpec {
  std::string host;        // absolute, variables expanded, normalized (no "//", "/./", trailing /)
  std::string container;   // absolute, same rules
  bool read_only = false;  // default rw, as AWF and docker
};

// Looks a host environment variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Expands $VAR and ${VAR} from `lookup` ("$$" is a literal '$'). Throws std::invalid_argument
// naming an undefined variable or a malformed reference.
std::string expand_variables(std::string_view text, const EnvLookup& lookup);

// Throws std::invalid_argument with a message that quotes `text`.
MountSpec parse_mount_spec(std::string_view text, const EnvLookup& lookup);

}  // namespace awf::cli
