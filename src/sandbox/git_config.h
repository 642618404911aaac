// A repository's .git/config as the sandbox shows it: without the credentials a checkout left
// there (actions/checkout's http.<url>.extraheader with the job token, credential helpers,
// tokens in URLs). Pure: parses untrusted bytes (the command may have written the file in an
// earlier run), fuzzed by tests/fuzz/fuzz_git_config.cpp.
#pragma once

#include <string>
#include <string_view>

namespace awf::sandbox {

struct FilteredGitConfig {
  std::string text;       // re-emitted in git's syntax, one entry per line
  bool complete = false;  // false: `text` is what came before a syntax error git would refuse
};

// Drops every credential.* entry, http.*.extraheader, and every section whose subsection is a
// URL with credentials (url."https://x:TOKEN@host/".insteadOf); removes the credentials from
// URLs in values (remote.*.url, pushurl, insteadOf, http.proxy). A URL's userinfo counts as a
// credential for http(s) and whenever it holds a password ("user:secret@").
FilteredGitConfig strip_git_credentials(std::string_view text);

}  // namespace awf::sandbox
