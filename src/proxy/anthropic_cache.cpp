#include "proxy/anthropic_cache.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "proxy/api_usage.h"

namespace awf::proxy {
namespace {

// Ordered: the body goes on to the provider, and its members keep the agent's order.
using Json = nlohmann::ordered_json;

constexpr std::string_view kOneHour = "1h";

std::optional<Json> parse_json(std::string_view text) {
  if (!json_nesting_within(text, kMaxCacheJsonDepth)) return std::nullopt;
  Json parsed = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// JavaScript's truthiness, which AWF's "has a TTL" test uses.
bool truthy(const Json& value) {
  if (value.is_null()) return false;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number()) return value.get<double>() != 0;
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  return true;
}

bool is_breakpoint(const Json& node) {
  if (!node.is_object()) return false;
  const auto control = node.find("cache_control");
  if (control == node.end() || !control->is_object()) return false;
  const auto type = control->find("type");
  return type != control->end() && *type == "ephemeral";
}

int count_breakpoints(const Json& node) {
  int count = is_breakpoint(node) ? 1 : 0;
  if (node.is_structured()) {
    for (const Json& child : node) count += count_breakpoints(child);
  }
  return count;
}

Json* member_array(Json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(name);
  return it != object.end() && it->is_array() ? &*it : nullptr;
}

// JavaScript's String.length: UTF-16 code units (the body parsed, so it is valid UTF-8).
std::size_t utf16_length(const std::string& text) {
  std::size_t length = 0;
  for (const unsigned char c : text) {
    if ((c & 0xC0) != 0x80) length += c >= 0xF0 ? 2 : 1;
  }
  return length;
}

// Rule 1: a breakpoint on a tiny system block spends a slot to cache almost nothing.
bool strip_small_system_breakpoints(Json& body) {
  Json* system = member_array(body, "system");
  if (system == nullptr) return false;
  bool changed = false;
  for (Json& block : *system) {
    if (!is_breakpoint(block)) continue;
    const auto text = block.find("text");
    const std::size_t length = text != block.end() && text->is_string()
                                   ? utf16_length(text->get_ref<const std::string&>())
                                   : 0;
    if (length < kSmallSystemBlock) {
      block.erase("cache_control");
      changed = true;
    }
  }
  return changed;
}

bool give_ttl(Json& block, std::string_view ttl) {
  if (!is_breakpoint(block)) return false;
  Json& control = block["cache_control"];
  const auto current = control.find("ttl");
  if (current != control.end() && truthy(*current)) return false;
  control["ttl"] = ttl;
  return true;
}

// The rolling tail: the last breakpoint in the messages' content arrays. It moves every turn,
// so it keeps the short TTL rather than paying the 1-hour write price for nothing.
const Json* rolling_tail(Json& messages) {
  for (auto message = messages.rbegin(); message != messages.rend(); ++message) {
    const Json* content = member_array(*message, "content");
    if (content == nullptr) continue;
    for (auto block = content->rbegin(); block != content->rend(); ++block) {
      if (is_breakpoint(*block)) return &*block;
    }
  }
  return nullptr;
}

// Rule 2: breakpoints without a TTL get 1h (the tail: `tail_ttl`).
bool upgrade_ttls(Json& body, std::string_view tail_ttl) {
  bool changed = false;
  for (const char* stable : {"tools", "system"}) {
    if (Json* list = member_array(body, stable)) {
      for (Json& block : *list) changed |= give_ttl(block, kOneHour);
    }
  }
  Json& messages = body["messages"];
  const Json* tail = rolling_tail(messages);
  for (Json& message : messages) {
    Json* content = member_array(message, "content");
    if (content == nullptr) continue;
    for (Json& block : *content) changed |= give_ttl(block, &block == tail ? tail_ttl : kOneHour);
  }
  return changed;
}

struct Slots {
  int used = 0;  // breakpoints in the body
  bool changed = false;
  bool room() const { return used < kMaxCacheBreakpoints; }
};

// A breakpoint with `ttl` on `block`: an existing one is given the TTL; a new one only while
// the body has room for it.
void mark(Json& block, std::string_view ttl, Slots& slots) {
  if (!block.is_object()) return;
  if (is_breakpoint(block)) {
    Json& control = block["cache_control"];
    const auto current = control.find("ttl");
    if (current == control.end() || !current->is_string() ||
        current->get_ref<const std::string&>() != ttl) {
      control["ttl"] = ttl;
      slots.changed = true;
    }
    return;
  }
  if (!slots.room()) return;
  block["cache_control"] = Json::object({{"type", "ephemeral"}, {"ttl", ttl}});
  ++slots.used;
  slots.changed = true;
}

bool cacheable(const Json& block) {
  if (!block.is_object()) return false;
  const auto type = block.find("type");
  return type != block.end() && (*type == "text" || *type == "tool_result" || *type == "image");
}

// The block of `message` a breakpoint goes on: its last cacheable one. String content becomes
// one text block first, only when a breakpoint can go on it.
Json* cacheable_block(Json& message, const Slots& slots) {
  if (!message.is_object()) return nullptr;
  const auto content = message.find("content");
  if (content == message.end()) return nullptr;
  if (content->is_string() && !content->get_ref<const std::string&>().empty() && slots.room()) {
    *content = Json::array({Json::object({{"type", "text"}, {"text", std::move(*content)}})});
  }
  if (!content->is_array()) return nullptr;
  for (auto block = content->rbegin(); block != content->rend(); ++block) {
    if (cacheable(*block)) return &*block;
  }
  return nullptr;
}

void mark_system(Json& body, Slots& slots) {
  const auto system = body.find("system");
  if (system == body.end()) return;
  if (system->is_string() && !system->get_ref<const std::string&>().empty() && slots.room()) {
    *system = Json::array({Json::object({{"type", "text"}, {"text", std::move(*system)}})});
  }
  if (system->is_array() && !system->empty()) mark(system->back(), kOneHour, slots);
}

// Rule 3: tools, system, messages[0], then the rolling tail.
void place_breakpoints(Json& body, std::string_view tail_ttl, Slots& slots) {
  if (Json* tools = member_array(body, "tools"); tools != nullptr && !tools->empty()) {
    mark(tools->back(), kOneHour, slots);
  }
  mark_system(body, slots);
  Json& messages = body["messages"];
  if (messages.empty()) return;
  if (Json* first = cacheable_block(messages.front(), slots)) mark(*first, kOneHour, slots);
  if (messages.size() < 2) return;
  if (Json* last = cacheable_block(messages.back(), slots)) mark(*last, tail_ttl, slots);
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool is_auto_cache_request(std::string_view method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return method == "POST" && path.ends_with("/v1/messages");
}

std::optional<std::string> auto_cache_body(std::string_view text, std::string_view tail_ttl) {
  std::optional<Json> body = parse_json(text);
  if (!body || !body->is_object() || member_array(*body, "messages") == nullptr) {
    return std::nullopt;
  }
  bool changed = strip_small_system_breakpoints(*body);
  changed |= upgrade_ttls(*body, tail_ttl);
  Slots slots{count_breakpoints(*body)};
  place_breakpoints(*body, tail_ttl, slots);
  if (!changed && !slots.changed) return std::nullopt;
  std::string out = body->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (out == text) return std::nullopt;
  return out;
}

std::string with_extended_cache_beta(std::string_view existing) {
  std::vector<std::string_view> values;
  for (;;) {
    const auto comma = existing.find(',');
    const std::string_view value = trimmed(existing.substr(0, comma));
    if (!value.empty() && std::find(values.begin(), values.end(), value) == values.end()) {
      values.push_back(value);
    }
    if (comma == std::string_view::npos) break;
    existing.remove_prefix(comma + 1);
  }
  if (std::find(values.begin(), values.end(), kExtendedCacheBeta) == values.end()) {
    values.push_back(kExtendedCacheBeta);
  }
  std::string joined;
  for (const std::string_view value : values) {
    if (!joined.empty()) joined += ',';
    joined += value;
  }
  return joined;
}

int count_cache_breakpoints(std::string_view text) {
  const std::optional<Json> body = parse_json(text);
  return body ? count_breakpoints(*body) : -1;
}

}  // namespace awf::proxy
