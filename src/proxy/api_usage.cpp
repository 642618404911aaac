#include "proxy/api_usage.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace awf::proxy {
namespace {

using Json = nlohmann::json;

// Deeper JSON than any provider sends is not parsed: the parser and the walks below stay
// shallow whatever a hostile upstream (or a fuzzer) sends.
constexpr int kMaxDepth = 64;
// token_details entries nest through `details`; AWF walks them all, awf this deep.
constexpr int kMaxDetailsDepth = 8;

}  // namespace

bool json_nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

namespace {

Json parse(std::string_view text) {
  if (!json_nesting_within(text, kMaxDepth)) return Json(Json::value_t::discarded);
  return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json* object_member(const Json& object, const char* key) {
  const Json* value = member(object, key);
  return value && value->is_object() ? value : nullptr;
}

// A token count: a whole number, not negative (AWF takes any JSON number; the record's schema
// wants integers >= 0, so anything else counts as not reported).
std::optional<std::uint64_t> count(const Json& object, const char* key) {
  const Json* value = member(object, key);
  if (!value) return std::nullopt;
  if (value->is_number_unsigned()) return value->get<std::uint64_t>();
  if (value->is_number_integer()) {
    const auto number = value->get<std::int64_t>();
    if (number >= 0) return static_cast<std::uint64_t>(number);
    return std::nullopt;
  }
  if (value->is_number_float()) {
    const double number = value->get<double>();
    if (number >= 0 && number < 1.8e19 && std::floor(number) == number) {
      return static_cast<std::uint64_t>(number);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> nested_count(const Json& object, const char* outer, const char* key) {
  const Json* inner = object_member(object, outer);
  return inner ? count(*inner, key) : std::nullopt;
}

std::string model_of(const Json& object, const char* key = "model") {
  const Json* value = member(object, key);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

// AWF's extractReasoningTokens.
std::optional<std::uint64_t> reasoning_tokens(const Json& usage) {
  if (auto n = count(usage, "reasoning_tokens")) return n;
  if (auto n = nested_count(usage, "completion_tokens_details", "reasoning_tokens")) return n;
  return nested_count(usage, "output_tokens_details", "reasoning_tokens");
}

// Sum of {token_type: "cache_read", token_count: N} entries, `details` included.
std::optional<std::uint64_t> sum_cache_read(const Json& entries, int depth) {
  if (!entries.is_array() || depth > kMaxDetailsDepth) return std::nullopt;
  std::uint64_t total = 0;
  bool found = false;
  for (const Json& entry : entries) {
    if (!entry.is_object()) continue;
    const Json* type = member(entry, "token_type");
    if (type && type->is_string() && type->get<std::string>() == "cache_read") {
      if (auto n = count(entry, "token_count")) {
        total += *n;
        found = true;
      }
    }
    if (const Json* details = member(entry, "details")) {
      if (auto nested = sum_cache_read(*details, depth + 1)) {
        total += *nested;
        found = true;
      }
    }
  }
  return found ? std::optional(total) : std::nullopt;
}

// AWF's extractCacheReadTokens.
std::optional<std::uint64_t> cache_read_tokens(const Json& usage) {
  if (auto n = count(usage, "cache_read_input_tokens")) return n;
  if (auto n = nested_count(usage, "prompt_tokens_details", "cached_tokens")) return n;
  if (auto n = nested_count(usage, "input_tokens_details", "cached_tokens")) return n;
  for (const char* key :
       {"prompt_tokens_details", "input_tokens_details", "token_details", "usage_details"}) {
    const Json* container = member(usage, key);
    if (!container) continue;
    const Json* entries = container->is_array() ? container : member(*container, "details");
    if (!entries) continue;
    if (auto total = sum_cache_read(*entries, 0)) return total;
  }
  return std::nullopt;
}

// A whole response's `usage` (AWF's buildUsageFromSource).
RawUsage usage_from_source(const Json& usage) {
  RawUsage out;
  out.input = count(usage, "input_tokens");
  out.output = count(usage, "output_tokens");
  out.cache_write = count(usage, "cache_creation_input_tokens");
  out.prompt = count(usage, "prompt_tokens");
  out.completion = count(usage, "completion_tokens");
  out.reasoning = reasoning_tokens(usage);
  out.cache_read = cache_read_tokens(usage);
  if (out.cache_read) {
    out.input_includes_cache =
        out.prompt || (out.input && (member(usage, "input_tokens_details") ||
                                     member(usage, "prompt_tokens_details")));
  }
  return out;
}

// Copilot's precise split (copilot_usage.token_details), which wins over its lumped `usage`.
void merge_copilot_breakdown(RawUsage& usage, const Json& json) {
  const Json* copilot = object_member(json, "copilot_usage");
  if (!copilot) {
    if (const Json* response = object_member(json, "response")) {
      copilot = object_member(*response, "copilot_usage");
    }
  }
  const Json* details = copilot ? member(*copilot, "token_details") : nullptr;
  if (!details || !details->is_array()) return;
  RawUsage split;
  for (const Json& entry : *details) {
    const Json* type = member(entry, "token_type");
    const std::optional<std::uint64_t> n = count(entry, "token_count");
    if (!type || !type->is_string() || !n) continue;
    const std::string name = type->get<std::string>();
    std::optional<std::uint64_t>* field = name == "input"         ? &split.input
                                          : name == "output"      ? &split.output
                                          : name == "cache_read"  ? &split.cache_read
                                          : name == "cache_write" ? &split.cache_write
                                                                  : nullptr;
    if (field) *field = field->value_or(0) + *n;
  }
  if (!split.any()) return;
  usage.merge(split);
  if (split.input) {
    usage.prompt.reset();
    usage.input_includes_cache = false;
  } else if (split.cache_write && usage.prompt) {
    // input = prompt - cache_write: the lumped prompt count holds the cache writes.
    usage.input = *usage.prompt > *split.cache_write ? *usage.prompt - *split.cache_write : 0;
    usage.prompt.reset();
    usage.input_includes_cache = false;
  }
}

RawUsage gemini_usage(const Json& metadata) {
  RawUsage out;
  out.input = count(metadata, "promptTokenCount");
  out.output = count(metadata, "candidatesTokenCount");
  out.cache_read = count(metadata, "cachedContentTokenCount");
  out.reasoning = count(metadata, "thoughtsTokenCount");
  return out;
}

// The OpenAI shapes of a streamed event's usage: only the fields AWF takes from each.
RawUsage streamed_openai_usage(const Json& usage, bool responses_api) {
  RawUsage out;
  if (responses_api) {
    out.input = count(usage, "input_tokens");
    out.output = count(usage, "output_tokens");
  } else {
    out.prompt = count(usage, "prompt_tokens");
    out.completion = count(usage, "completion_tokens");
  }
  out.reasoning = reasoning_tokens(usage);
  out.cache_read = cache_read_tokens(usage);
  if (out.cache_read) out.input_includes_cache = true;
  return out;
}

bool has_type(const Json& json, std::string_view type) {
  const Json* value = member(json, "type");
  return value && value->is_string() && value->get_ref<const std::string&>() == type;
}

UsageFound event_usage(const Json& json) {
  UsageFound found;
  if (!json.is_object()) return found;
  found.model = model_of(json);
  const Json* message = object_member(json, "message");
  if (has_type(json, "message_start") && message && member(*message, "usage")) {
    const Json& usage = (*message)["usage"];
    found.usage.input = count(usage, "input_tokens");
    found.usage.cache_write = count(usage, "cache_creation_input_tokens");
    found.usage.cache_read = cache_read_tokens(usage);
    if (std::string model = model_of(*message); !model.empty()) found.model = std::move(model);
    return found;
  }
  if (has_type(json, "message_delta") && member(json, "usage")) {
    found.usage.output = count(json["usage"], "output_tokens");
    return found;
  }
  const Json* response = object_member(json, "response");
  if ((has_type(json, "response.completed") || has_type(json, "response.done")) && response &&
      object_member(*response, "usage")) {
    found.usage = streamed_openai_usage((*response)["usage"], true);
    if (std::string model = model_of(*response); !model.empty()) found.model = std::move(model);
    return found;
  }
  if (const Json* usage = object_member(json, "usage")) {
    found.usage = streamed_openai_usage(*usage, false);
    merge_copilot_breakdown(found.usage, json);
    return found;
  }
  if (const Json* metadata = object_member(json, "usageMetadata")) {
    found.usage = gemini_usage(*metadata);
    if (found.model.empty()) found.model = model_of(json, "modelVersion");
  }
  return found;
}

UsageFound document_usage(const Json& json) {
  UsageFound found;
  const Json* response = object_member(json, "response");
  const Json* usage = object_member(json, "usage");
  if (!usage && response) usage = object_member(*response, "usage");
  found.model = model_of(json);
  if (found.model.empty() && response) found.model = model_of(*response);
  if (usage) found.usage = usage_from_source(*usage);
  merge_copilot_breakdown(found.usage, json);
  const Json* metadata = object_member(json, "usageMetadata");
  if (!found.usage.any() && metadata) {
    found.usage = gemini_usage(*metadata);
    if (found.model.empty()) found.model = model_of(json, "modelVersion");
  }
  return found;
}

// Gemini's streamGenerateContent without alt=sse: one JSON array, each element a chunk as
// the SSE form would send it (the last one holds the totals).
UsageFound array_usage(const Json& chunks) {
  UsageFound found;
  for (const Json& chunk : chunks) {
    const UsageFound part = event_usage(chunk);
    if (found.model.empty()) found.model = part.model;
    found.usage.merge(part.usage);
  }
  return found;
}

}  // namespace

bool RawUsage::any() const {
  return input || output || prompt || completion || cache_read || cache_write || reasoning;
}

void RawUsage::merge(const RawUsage& later) {
  for (auto field : {&RawUsage::input, &RawUsage::output, &RawUsage::prompt, &RawUsage::completion,
                     &RawUsage::cache_read, &RawUsage::cache_write, &RawUsage::reasoning}) {
    if (later.*field) this->*field = later.*field;
  }
  if (later.input_includes_cache) input_includes_cache = true;
}

TokenUsage normalize_usage(const RawUsage& raw) {
  TokenUsage out;
  out.input = raw.input.value_or(raw.prompt.value_or(0));
  out.output = raw.output.value_or(raw.completion.value_or(0));
  out.cache_read = raw.cache_read.value_or(0);
  out.cache_write = raw.cache_write.value_or(0);
  out.reasoning = raw.reasoning.value_or(0);
  out.input_includes_cache = raw.input_includes_cache || (out.cache_read > 0 && raw.prompt);
  return out;
}

UsageFound usage_from_json(std::string_view body) {
  const Json json = parse(body);
  if (json.is_array()) return array_usage(json);
  if (json.is_object()) return document_usage(json);
  return {};
}

UsageFound usage_from_event(std::string_view data) {
  if (data.empty() || data == "[DONE]") return {};
  return event_usage(parse(data));
}

std::optional<bool> usage_streaming(std::string_view content_type,
                                    std::string_view content_encoding) {
  std::string encoding(content_encoding);
  std::string type(content_type);
  for (std::string* text : {&encoding, &type}) {
    for (char& c : *text) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (!encoding.empty() && encoding != "identity") return std::nullopt;
  if (type.find("text/event-stream") != std::string::npos) return true;
  if (type.empty() || type.find("json") != std::string::npos) return false;
  return std::nullopt;
}

std::string model_of_request(std::string_view body) {
  return model_of(parse(body));
}

void UsageObserver::take(const UsageFound& found) {
  if (model_.empty()) model_ = found.model;
  usage_.merge(found.usage);
}

// An SSE line: the data of "data:" lines is an event; other fields and comments are not usage.
void UsageObserver::take_line(std::string_view line) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const std::size_t first = line.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return;
  line = line.substr(first, line.find_last_not_of(kSpace) - first + 1);
  // AWF takes "data: " only; the SSE standard's "data:" without the space is read too.
  constexpr std::string_view kData = "data:";
  if (!line.starts_with(kData)) return;
  line.remove_prefix(kData.size());
  if (line.starts_with(' ')) line.remove_prefix(1);
  // Once the model is known, only an event that names usage ("usage", "usageMetadata",
  // "copilot_usage") can add to the record: the others (nearly all of a long stream) are not
  // parsed at all.
  if (!model_.empty() && line.find("usage") == std::string_view::npos) return;
  take(usage_from_event(line));
}

void UsageObserver::feed(std::string_view bytes) {
  bytes_ += bytes.size();
  if (finished_) return;
  if (!streaming_) {
    if (overflow_) return;
    if (pending_.size() + bytes.size() > kMaxJsonBody) {
      overflow_ = true;
      std::string().swap(pending_);
      return;
    }
    pending_.append(bytes);
    return;
  }
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, newline);
    if (!skipping_line_) {
      if (pending_.size() + piece.size() > kMaxSseLine) {
        skipping_line_ = true;
        std::string().swap(pending_);
      } else if (newline != std::string_view::npos && pending_.empty()) {
        take_line(piece);  // a whole line in this piece: no copy
      } else {
        pending_.append(piece);
        if (newline != std::string_view::npos) {
          take_line(pending_);
          pending_.clear();
        }
      }
    }
    if (newline == std::string_view::npos) return;
    skipping_line_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

void UsageObserver::finish() {
  if (finished_) return;
  finished_ = true;
  if (streaming_) {
    if (!skipping_line_) take_line(pending_);
  } else if (!overflow_ && !pending_.empty()) {
    take(usage_from_json(pending_));
  }
  std::string().swap(pending_);
}

}  // namespace awf::proxy
