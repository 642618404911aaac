// Fuzzes what --upstream-proxy reads: the parent proxy's answer to CONNECT (bytes from the
// network), the proxy URL and the no_proxy list (from awf's environment). Invariants: a head
// end lies inside the input and after a blank line; a status is a three-digit code; a parsed
// URL's redacted form does not depend on its password.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "proxy/upstream_proxy.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::proxy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::size_t end = parent_head_end(text);
  check(end <= text.size());
  if (end != 0) {
    check(end >= 4 && text.substr(end - 2, 2) == "\r\n");
    if (const auto status = parent_status(text.substr(0, end))) {
      check(*status >= 100 && *status <= 999);
    }
  }

  try {
    const ProxyUrl url = parse_proxy_url(text);
    check(url.port != 0 && !url.host.empty());
    // The redacted form does not depend on the password at all.
    ProxyUrl other = url;
    other.password = url.password + "-other";
    check(other.redacted() == url.redacted());
    const std::string request = connect_request(url, "allowed.test", 443);
    check(request.starts_with("CONNECT allowed.test:443 HTTP/1.1\r\n"));
  } catch (const std::invalid_argument& error) {
    (void)error;
  }

  const NoProxy no_proxy = NoProxy::parse(text);
  no_proxy.matches("allowed.test");
  no_proxy.matches("203.0.113.10");
  no_proxy.matches("[2001:db8::1]");
  return 0;
}
