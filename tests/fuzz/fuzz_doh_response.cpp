// Fuzzes the DoH client's reading of a server's HTTP response and of the DNS answer inside it
// (both come from the network): no crash, and the parser's claims hold — a complete response
// consumed no more than it was given, its answer is a DNS message's size, and the answer reads
// as a lookup answer (or is refused) without harm.
#include <cstdint>
#include <span>

#include "dns/doh_http.h"
#include "dns/lookup.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  for (const bool at_eof : {false, true}) {
    const awf::dns::DohResponse response = awf::dns::parse_doh_response(input, at_eof);
    if (response.state != awf::dns::DohResponse::State::Complete) continue;
    if (response.consumed > size || response.message.size() < 12 ||
        response.message.size() > 65535) {
      __builtin_trap();
    }
    // A prefix that ends where the response did parses to the same answer.
    const awf::dns::DohResponse again =
        awf::dns::parse_doh_response(input.first(response.consumed), at_eof);
    if (again.state != awf::dns::DohResponse::State::Complete ||
        again.message != response.message) {
      __builtin_trap();
    }
    awf::dns::read_lookup_answer(response.message, "allowed.test", awf::dns::kTypeA);
    awf::dns::read_lookup_answer(response.message, "allowed.test", awf::dns::kTypeAaaa);
  }
  awf::dns::read_lookup_answer(input, "allowed.test", awf::dns::kTypeA);
  return 0;
}
