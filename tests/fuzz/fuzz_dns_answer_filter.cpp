// Fuzzes the DNS rebinding filter on hostile upstream answers: it must never crash, and a
// rebuilt answer must itself parse cleanly with nothing left to remove.
#include <cstdint>

#include "dns/answer_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const awf::dns::FilteredAnswer first = awf::dns::filter_internal_answers({data, size});
  if (first.result == awf::dns::FilteredAnswer::Result::Filtered) {
    const awf::dns::FilteredAnswer second = awf::dns::filter_internal_answers(first.message);
    if (second.result != awf::dns::FilteredAnswer::Result::Unchanged) __builtin_trap();
  }
  return 0;
}
