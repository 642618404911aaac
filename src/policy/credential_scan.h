// --enable-dlp: spotting credential-shaped strings in what the command sends in the clear to
// the gateway (plain-HTTP URLs, CONNECT targets), so that a leaked token cannot be carried out
// in a URL to an allowed host. Pure logic, no I/O; a heuristic, not a guarantee
// (docs/security.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace awf::policy {

// The kind of credential found ("GitHub token", "AWS access key id", ...), or nullopt. The
// text is scanned as given and once percent-decoded (`%73k-...` is still `sk-...`).
std::optional<std::string_view> find_credential(std::string_view text);

// What the records of a --enable-dlp denial show instead of the URL, so that the logs never
// hold the credential: in `scheme://authority/path?query` (or a CONNECT `host:port`), the
// host is replaced by `<redacted>` (its port kept) and the path by `/<redacted>` when they
// hold a credential-shaped string, and a query or fragment always is (`?<redacted>`).
std::string redact_credentials(std::string_view url);

}  // namespace awf::policy
