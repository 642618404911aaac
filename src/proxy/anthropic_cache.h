// --anthropic-auto-cache (apiProxy.anthropicAutoCache): AWF's prompt-cache rewrite of an
// Anthropic /v1/messages request body, so that an agent which never marks its prompt for caching
// (or marks it with the default 5-minute lifetime) pays cache reads instead of full input
// tokens on every turn. Pure: JSON text in, JSON text out, no I/O. The body is the sandboxed
// agent's (untrusted): anything that is not a JSON object with a `messages` array, or that nests
// deeper than kMaxCacheJsonDepth, is left as it is.
//
// The rules, in order (AWF's transforms/cache-control.js, with the slot budget of AWF's
// anthropic-cache.js so that a request never carries more breakpoints than Anthropic accepts):
//   1. A system block shorter than kSmallSystemBlock characters loses its breakpoint: caching it
//      saves a few tokens and spends one of the four slots.
//   2. Each `{"type":"ephemeral"}` breakpoint without a TTL in tools, system and message content
//      gets "1h", except the rolling tail (the last one in the messages), which gets the tail TTL.
//   3. Breakpoints at the four stable places, in this priority: the last tool, the last system
//      block (a string system prompt becomes one text block), the last cacheable block (text,
//      tool_result, image) of messages[0] — each "1h" — and, when there are two messages or more,
//      the last cacheable block of the last message with the tail TTL. A place that already has
//      a breakpoint gets that TTL; a new one is added only while the body holds fewer than
//      kMaxCacheBreakpoints.
// A body run through twice comes out as after once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace awf::proxy {

// The anthropic-beta flag under which Anthropic honours the 1-hour TTL.
inline constexpr std::string_view kExtendedCacheBeta = "extended-cache-ttl-2025-04-11";
// Anthropic refuses a request with more cache breakpoints than this.
inline constexpr int kMaxCacheBreakpoints = 4;
// In characters (UTF-16 code units, as AWF counts them).
inline constexpr std::size_t kSmallSystemBlock = 500;
// Deeper bodies are left as they are (the rewrite and the serialiser recurse): api_usage.h's
// kMaxRewriteDepth.
inline constexpr int kMaxCacheJsonDepth = 128;

// The request is one auto-cache rewrites: POST to .../v1/messages (not count_tokens, not batches).
bool is_auto_cache_request(std::string_view method, std::string_view target);

// The body rewritten by the rules above, or nullopt when it is left as it is (not a messages
// body, too deep, or already as the rules want it). `tail_ttl` is "5m" or "1h".
std::optional<std::string> auto_cache_body(std::string_view body, std::string_view tail_ttl);

// An anthropic-beta value that includes kExtendedCacheBeta: the values of `existing`
// (comma-separated, trimmed, each once, in their order), then the flag if it was not among them.
std::string with_extended_cache_beta(std::string_view existing);

// Ephemeral breakpoints anywhere in `body` (-1: not JSON, or deeper than kMaxCacheJsonDepth).
int count_cache_breakpoints(std::string_view body);

}  // namespace awf::proxy
