// Usage accounting of the API proxy, the parsing half: what a model response says it used
// (tokens, model), read from its body as it is relayed. Pure: bytes in, counts out, no I/O.
//
// The body is fed in the pieces the relay forwards (any split, down to single bytes) after
// each piece has gone to the client, so parsing never holds a response back. Both shapes are
// bounded: a streamed (SSE) body is read line by line with a line limit, a whole JSON body is
// kept up to kMaxJsonBody; past either limit the response is not accounted, the relay goes on.
//
// Wire formats, as AWF's api-proxy reads them (token-parsers.js):
//   OpenAI / Copilot chat completions: `usage` {prompt_tokens, completion_tokens,
//     prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens};
//     Copilot's `copilot_usage.token_details` split wins where present.
//   OpenAI Responses API: `response.completed` / `response.done` events (and whole responses)
//     with `response.usage` {input_tokens, output_tokens, input_tokens_details.cached_tokens,
//     output_tokens_details.reasoning_tokens}.
//   Anthropic: `usage` {input_tokens, output_tokens, cache_creation_input_tokens,
//     cache_read_input_tokens}; streamed as message_start (input side) and message_delta
//     (output side).
//   Gemini: `usageMetadata` {promptTokenCount, candidatesTokenCount, cachedContentTokenCount,
//     thoughtsTokenCount}, model in `modelVersion`; streamGenerateContent as SSE (alt=sse) or
//     as one JSON array of chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf::proxy {

// What a provider reported, field by field (unset: not reported). Streamed events report in
// parts; a later event's fields replace earlier ones, as AWF merges them.
struct RawUsage {
  std::optional<std::uint64_t> input, output, prompt, completion, cache_read, cache_write,
      reasoning;
  bool input_includes_cache = false;  // OpenAI shape: input/prompt counts the cached tokens too

  bool any() const;
  void merge(const RawUsage& later);
};

// The record's counts (AWF's normalizeUsage).
struct TokenUsage {
  std::uint64_t input = 0, output = 0, cache_read = 0, cache_write = 0, reasoning = 0;
  bool input_includes_cache = false;
};

TokenUsage normalize_usage(const RawUsage& raw);

// What one parsed piece (a JSON body, an SSE event's data) says.
struct UsageFound {
  RawUsage usage;
  std::string model;  // "" when it names none
};

// A whole JSON body (OpenAI, Anthropic, Copilot, Gemini, or Gemini's array of chunks).
// Malformed or unrecognised JSON gives nothing.
UsageFound usage_from_json(std::string_view body);
// The data of one SSE event (after "data: "); "[DONE]" and malformed JSON give nothing.
UsageFound usage_from_event(std::string_view data);

// `text` (JSON) opens no more than `limit` arrays and objects inside each other: nlohmann's
// serialiser and awf's walks recurse, so deeper untrusted JSON is not parsed at all.
bool json_nesting_within(std::string_view text, int limit);

// Request bodies awf re-serialises (model aliases, token steering, Anthropic auto-cache) are
// left as they are when they nest deeper than this: the serialiser recurses once per level, and
// a 10 MiB body of '[' would overflow a worker's stack.
inline constexpr int kMaxRewriteDepth = 128;

// The top-level "model" of a request body ("" when it has none): the record's model when the
// response names none (AWF's requestModel).
std::string model_of_request(std::string_view body);

// How a response with these headers is read: SSE (true), one JSON document (false), or not at
// all (a compressed body, which awf asks the provider not to send, or another type: audio,
// images... carry no usage and are not kept).
std::optional<bool> usage_streaming(std::string_view content_type,
                                    std::string_view content_encoding);

// Kept of a non-streamed body before accounting gives up on it (AWF: 5 MB).
inline constexpr std::size_t kMaxJsonBody = 4 * 1024 * 1024;
// Longest SSE line read; a longer one (and the event it is in) is skipped.
inline constexpr std::size_t kMaxSseLine = 1024 * 1024;

// Fed the body of one response in the pieces it is relayed in.
class UsageObserver {
 public:
  // `streaming`: an SSE body (Content-Type text/event-stream), else one JSON document.
  explicit UsageObserver(bool streaming) : streaming_(streaming) {}

  void feed(std::string_view bytes);
  // The body ended (a last SSE line without its newline is read now).
  void finish();

  bool streaming() const { return streaming_; }
  // Usage was reported (a record is due, AWF writes none otherwise).
  bool found() const { return usage_.any(); }
  TokenUsage usage() const { return normalize_usage(usage_); }
  const std::string& model() const { return model_; }
  std::uint64_t bytes() const { return bytes_; }
  // The JSON body outgrew kMaxJsonBody (nothing is accounted).
  bool overflowed() const { return overflow_; }

 private:
  void take_line(std::string_view line);
  void take(const UsageFound& found);

  bool streaming_;
  bool overflow_ = false;
  bool skipping_line_ = false;  // inside a line longer than kMaxSseLine
  bool finished_ = false;
  std::uint64_t bytes_ = 0;
  std::string pending_;  // JSON: the body so far; SSE: the current line so far
  RawUsage usage_;
  std::string model_;
};

}  // namespace awf::proxy
