// Fuzzes the API proxy's usage accounting: a response body from the provider (untrusted, and
// relayed in whatever pieces the network gives), read as SSE and as one JSON document, and
// the record made of it. Invariants: the result does not depend on where the body is split;
// the byte count is the body's; a record is one line of valid JSON whatever the model name.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "proxy/api_usage.h"
#include "proxy/usage_record.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Outcome {
  bool found;
  awf::proxy::TokenUsage usage;
  std::string model;
};

Outcome observe(std::string_view body, bool streaming, std::size_t piece) {
  awf::proxy::UsageObserver observer(streaming);
  for (std::size_t at = 0; at < body.size(); at += piece) observer.feed(body.substr(at, piece));
  observer.finish();
  check(observer.bytes() == body.size());
  return {observer.found(), observer.usage(), observer.model()};
}

bool same(const Outcome& a, const Outcome& b) {
  return a.found == b.found && a.usage.input == b.usage.input && a.usage.output == b.usage.output &&
         a.usage.cache_read == b.usage.cache_read && a.usage.cache_write == b.usage.cache_write &&
         a.usage.reasoning == b.usage.reasoning && a.model == b.model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::proxy;
  if (size == 0) return 0;
  // The first byte picks the piece size the body is fed in.
  const std::size_t piece = 1 + data[0] % 13;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  for (const bool streaming : {true, false}) {
    const Outcome whole = observe(body, streaming, body.size() + 1);
    check(same(whole, observe(body, streaming, piece)));
    if (!whole.found) continue;
    UsageRecord record;
    record.provider = "copilot";
    record.model = whole.model;
    record.usage = whole.usage;
    record.price = choose_price({}, record.provider, record.model);
    if (record.price)
      record.credits = round_credits(ai_credits(whole.usage, "copilot", record.price->price));
    const std::string line = format_usage_record(record);
    check(line.find('\n') == line.size() - 1);
    check(!nlohmann::json::parse(line, nullptr, false).is_discarded());
  }
  (void)model_of_request(body);
  return 0;
}
