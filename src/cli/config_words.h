// --config FILE read as command-line words, so that one parser handles both and the command
// line wins over the file.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/options.h"

namespace CLI {
class App;
}

namespace awf::cli {

// Where a flag's value came from, when it came from the config file: its notices name the key
// ("config.container.skipPull") rather than a flag the user never typed.
using Origins = std::map<std::string, std::string, std::less<>>;

// Settings from --config, as command-line words, for the flags the command line does not give
// itself: "the command line wins", and a list on the command line replaces the file's list.
std::vector<std::string> config_words(const std::string& path, const CLI::App& given,
                                      Origins& origins, Options& options);

}  // namespace awf::cli
