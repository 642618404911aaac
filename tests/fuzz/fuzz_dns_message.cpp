// libFuzzer target: DNS query parsing and local responses on arbitrary datagrams.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "dns/denial.h"
#include "dns/message.h"
#include "dns/upstream_query.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> msg(data, size);
  const auto query = awf::dns::parse_query(msg);
  if (query) {
    check(size >= 17);
    const auto& q = query->question;
    if (q.name_ok) {
      check(q.name.size() <= 253);
      for (char c : q.name) {
        check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
      }
      check(q.name.empty() || (q.name.front() != '.' && q.name.back() != '.'));
    } else {
      check(q.name.empty());
    }
  }
  (void)awf::dns::qtype_name(query ? query->question.qtype : static_cast<std::uint16_t>(size));

  // A denial: NXDOMAIN, small, never a query.
  const auto denied = awf::dns::make_denied_response(msg, "awf: the name is not allowed");
  check(denied.empty() == !query);
  if (!denied.empty()) {
    check(denied.size() < 512 && awf::dns::response_rcode(denied) == awf::dns::kRcodeNxDomain);
    check(!awf::dns::parse_query(denied));
  }

  // The upstream query: only the question and at most a bare OPT record leave.
  const auto upstream = awf::dns::make_upstream_query(msg);
  check(upstream.empty() == !(query && query->question.name_ok));
  if (!upstream.empty()) {
    check(upstream.size() <= 12 + 255 + 4 + 11);
    const auto again = awf::dns::parse_query(upstream);
    check(again && again->id == query->id && again->question.name == query->question.name &&
          again->question.qtype == query->question.qtype &&
          again->question.qclass == query->question.qclass);
    check(awf::dns::make_upstream_query(upstream) == upstream);  // a fixed point
    check(awf::dns::find_edns(upstream).has_value() == awf::dns::find_edns(msg).has_value());
    std::vector<std::uint8_t> response = upstream;
    awf::dns::restore_question_case(response, msg);
    check(response.size() == upstream.size());
    check(awf::dns::parse_query(response)->question.name == query->question.name);
  }

  for (std::uint8_t rcode : {awf::dns::kRcodeRefused, awf::dns::kRcodeNxDomain,
                             awf::dns::kRcodeFormErr, std::uint8_t{0xff}}) {
    auto resp = awf::dns::make_local_response(msg, rcode);
    if (size < 12) {
      check(resp.empty());
      continue;
    }
    check(resp.size() >= 12 && resp.size() <= 12 + 255 + 4);
    check(resp[0] == data[0] && resp[1] == data[1]);
    check((resp[2] & 0x80) != 0);                 // QR
    check((resp[2] & 0x01) == (data[2] & 0x01));  // RD copied
    check(awf::dns::response_rcode(resp) == (rcode & 0x0f));
    (void)awf::dns::rcode_name(rcode);
    check(!awf::dns::parse_query(resp));  // a response is never taken for a query
    if (query) {
      // The echoed question, read back as a query, is the same question.
      resp[2] &= 0x7f;
      const auto echoed = awf::dns::parse_query(resp);
      check(echoed.has_value());
      check(echoed->question.name == query->question.name &&
            echoed->question.name_ok == query->question.name_ok &&
            echoed->question.qtype == query->question.qtype &&
            echoed->question.qclass == query->question.qclass);
    } else {
      check(resp.size() == 12);
    }
    awf::dns::set_message_id(resp, 0xabcd);
    check(resp[0] == 0xab && resp[1] == 0xcd);
  }
  return 0;
}
