#include "proxy/anthropic_cache.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace awf::proxy {
namespace {

using Json = nlohmann::ordered_json;

const Json kOneHour = Json::parse(R"({"type":"ephemeral","ttl":"1h"})");
const Json kFiveMinutes = Json::parse(R"({"type":"ephemeral","ttl":"5m"})");

Json rewritten(const Json& body, std::string_view tail = "5m") {
  const std::optional<std::string> out = auto_cache_body(body.dump(), tail);
  if (!out) return body;
  return Json::parse(*out);
}

std::string long_text() {
  return std::string(600, 'x');
}

TEST(AnthropicCache, OnlyMessagesPosts) {
  EXPECT_TRUE(is_auto_cache_request("POST", "/v1/messages"));
  EXPECT_TRUE(is_auto_cache_request("POST", "/base/v1/messages?beta=true"));
  EXPECT_FALSE(is_auto_cache_request("GET", "/v1/messages"));
  EXPECT_FALSE(is_auto_cache_request("POST", "/v1/messages/count_tokens"));
  EXPECT_FALSE(is_auto_cache_request("POST", "/v1/messages/batches"));
  EXPECT_FALSE(is_auto_cache_request("POST", "/v1/complete"));
}

TEST(AnthropicCache, LeavesOtherBodiesAlone) {
  for (const char* body : {"", "not json", "[]", "{}", R"({"messages":"hi"})",
                           R"({"messages":{"role":"user"}})", R"({"model":"x"})", "\"text\""}) {
    EXPECT_FALSE(auto_cache_body(body, "5m")) << body;
  }
  // Deeper than awf parses: left as it is, not refused.
  std::string deep = R"({"messages":[],"x":)" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_FALSE(auto_cache_body(deep, "5m"));
  EXPECT_EQ(count_cache_breakpoints(deep), -1);
}

TEST(AnthropicCache, FourSlotsOnAPlainBody) {
  const Json body = Json::parse(R"({
    "model": "claude-sonnet-4-5", "max_tokens": 64,
    "tools": [{"name": "a", "input_schema": {}}, {"name": "b", "input_schema": {}}],
    "system": "You are a careful agent.",
    "messages": [
      {"role": "user", "content": "first"},
      {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]}
    ]})");
  const Json out = rewritten(body);
  EXPECT_FALSE(out["tools"][0].contains("cache_control"));
  EXPECT_EQ(out["tools"][1]["cache_control"], kOneHour);
  // A string system prompt becomes one text block that carries the breakpoint.
  ASSERT_TRUE(out["system"].is_array());
  EXPECT_EQ(out["system"][0]["text"], "You are a careful agent.");
  EXPECT_EQ(out["system"][0]["cache_control"], kOneHour);
  EXPECT_EQ(out["messages"][0]["content"][0]["text"], "first");
  EXPECT_EQ(out["messages"][0]["content"][0]["cache_control"], kOneHour);
  EXPECT_FALSE(out["messages"][1]["content"][0].contains("cache_control"));
  EXPECT_EQ(out["messages"][2]["content"][0]["cache_control"], kFiveMinutes);
  EXPECT_EQ(count_cache_breakpoints(out.dump()), 4);
  // The members keep their order (the provider gets the agent's body, plus breakpoints).
  EXPECT_EQ(out.begin().key(), "model");
  EXPECT_EQ(out["max_tokens"], 64);
}

TEST(AnthropicCache, TailTtlAndSingleMessage) {
  const Json two =
      Json::parse(R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
  EXPECT_EQ(rewritten(two, "1h")["messages"][1]["content"][0]["cache_control"], kOneHour);
  // One message: it is messages[0] (1h); no separate tail.
  const Json one = Json::parse(R"({"messages":[{"role":"user","content":"only"}]})");
  const Json out = rewritten(one);
  EXPECT_EQ(out["messages"][0]["content"][0]["cache_control"], kOneHour);
  EXPECT_EQ(count_cache_breakpoints(out.dump()), 1);
}

TEST(AnthropicCache, ExistingBreakpointsGetTtls) {
  const Json body = Json::parse(R"({
    "system": [{"type": "text", "text": ")" +
                                long_text() + R"(",
                "cache_control": {"type": "ephemeral"}}],
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "a"}]},
      {"role": "assistant", "content": [{"type": "text", "text": "b",
                                          "cache_control": {"type": "ephemeral"}}]},
      {"role": "user", "content": [{"type": "text", "text": "c",
                                     "cache_control": {"type": "ephemeral"}},
                                    {"type": "text", "text": "d"}]}]})");
  const Json out = rewritten(body);
  EXPECT_EQ(out["system"][0]["cache_control"], kOneHour);
  EXPECT_EQ(out["messages"][1]["content"][0]["cache_control"], kOneHour);
  // The client's rolling tail keeps the short TTL.
  EXPECT_EQ(out["messages"][2]["content"][0]["cache_control"], kFiveMinutes);
  // system, msg0, messages[1], messages[2][0] = 4: no room for a breakpoint on the last block.
  EXPECT_EQ(out["messages"][0]["content"][0]["cache_control"], kOneHour);
  EXPECT_FALSE(out["messages"][2]["content"][1].contains("cache_control"));
  EXPECT_EQ(count_cache_breakpoints(out.dump()), 4);
}

TEST(AnthropicCache, ExplicitTtlKeptExceptOnASlot) {
  const Json body = Json::parse(R"({
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "a",
                                     "cache_control": {"type": "ephemeral", "ttl": "5m"}}]},
      {"role": "assistant", "content": [{"type": "text", "text": "b",
                                          "cache_control": {"type": "ephemeral", "ttl": "5m"}}]},
      {"role": "user", "content": [{"type": "text", "text": "c"}]}]})");
  const Json out = rewritten(body);
  EXPECT_EQ(out["messages"][0]["content"][0]["cache_control"], kOneHour);      // messages[0]'s slot
  EXPECT_EQ(out["messages"][1]["content"][0]["cache_control"], kFiveMinutes);  // as given
  EXPECT_EQ(out["messages"][2]["content"][0]["cache_control"], kFiveMinutes);
}

TEST(AnthropicCache, NeverMoreThanFourBreakpoints) {
  Json body = Json::parse(R"({"tools":[{"name":"t"}],"system":"s","messages":[]})");
  for (int i = 0; i < 6; ++i) {
    body["messages"].push_back(Json::parse(
        R"({"role":"user","content":[{"type":"text","text":"m","cache_control":{"type":"ephemeral","ttl":"5m"}}]})"));
  }
  body["messages"].push_back(Json::parse(R"({"role":"user","content":"last"})"));
  const Json out = rewritten(body);
  // Six already: none added (a string stays a string), existing slots get their TTL.
  EXPECT_FALSE(out["tools"][0].contains("cache_control"));
  EXPECT_TRUE(out["system"].is_string());
  EXPECT_TRUE(out["messages"][6]["content"].is_string());
  EXPECT_EQ(out["messages"][0]["content"][0]["cache_control"], kOneHour);
  EXPECT_EQ(count_cache_breakpoints(out.dump()), 6);

  // Three already: only the highest-priority slot is added.
  Json three = Json::parse(R"({"tools":[{"name":"t"}],"system":"s","messages":[]})");
  for (int i = 0; i < 3; ++i) three["messages"].push_back(body["messages"][1]);
  EXPECT_EQ(rewritten(three)["tools"][0]["cache_control"], kOneHour);
  EXPECT_TRUE(rewritten(three)["system"].is_string());
  EXPECT_EQ(count_cache_breakpoints(rewritten(three).dump()), 4);
}

TEST(AnthropicCache, TinySystemBreakpointsStripped) {
  const Json body = Json::parse(R"({
    "system": [{"type": "text", "text": "tiny", "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": ")" +
                                long_text() + R"(",
                "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": "tiny too"}],
    "messages": [{"role": "user", "content": "q"}]})");
  const Json out = rewritten(body);
  EXPECT_FALSE(out["system"][0].contains("cache_control"));
  EXPECT_EQ(out["system"][1]["cache_control"], kOneHour);
  EXPECT_EQ(out["system"][2]["cache_control"], kOneHour);  // the system slot itself
  // 500 UTF-16 units: 250 four-byte characters count 2 each, so it is kept.
  std::string emoji;
  for (int i = 0; i < 250; ++i) emoji += "\xF0\x9F\x98\x80";
  Json wide = body;
  wide["system"][0]["text"] = emoji;
  EXPECT_EQ(rewritten(wide)["system"][0]["cache_control"], kOneHour);
}

TEST(AnthropicCache, OnlyCacheableBlocksMarked) {
  const Json body = Json::parse(R"({"messages": [
      {"role": "user", "content": [{"type": "image", "source": {}},
                                    {"type": "document", "source": {}}]},
      {"role": "assistant", "content": [{"type": "text", "text": "x"},
                                         {"type": "thinking", "thinking": "t"},
                                         {"type": "tool_use", "id": "u", "input": {}}]}]})");
  const Json out = rewritten(body);
  EXPECT_EQ(out["messages"][0]["content"][0]["cache_control"], kOneHour);
  EXPECT_FALSE(out["messages"][0]["content"][1].contains("cache_control"));
  EXPECT_EQ(out["messages"][1]["content"][0]["cache_control"], kFiveMinutes);
  EXPECT_FALSE(out["messages"][1]["content"][1].contains("cache_control"));
  EXPECT_FALSE(out["messages"][1]["content"][2].contains("cache_control"));
}

TEST(AnthropicCache, IdempotentAndUnchangedWhenDone) {
  const std::string body =
      R"({"tools":[{"name":"t"}],"system":"s","messages":[{"role":"user","content":"a"},)"
      R"({"role":"user","content":[{"type":"text","text":"b"}]}]})";
  const std::optional<std::string> once = auto_cache_body(body, "5m");
  ASSERT_TRUE(once);
  EXPECT_FALSE(auto_cache_body(*once, "5m"));  // nothing left to do: the bytes stay
  // With the other tail TTL, only the tail changes.
  const std::optional<std::string> other = auto_cache_body(*once, "1h");
  ASSERT_TRUE(other);
  EXPECT_EQ(Json::parse(*other)["messages"][1]["content"][0]["cache_control"], kOneHour);
}

TEST(AnthropicCache, BetaHeaderMerged) {
  EXPECT_EQ(with_extended_cache_beta(""), "extended-cache-ttl-2025-04-11");
  EXPECT_EQ(with_extended_cache_beta("a-1"), "a-1,extended-cache-ttl-2025-04-11");
  EXPECT_EQ(with_extended_cache_beta(" a-1 , b-2,a-1,,"), "a-1,b-2,extended-cache-ttl-2025-04-11");
  EXPECT_EQ(with_extended_cache_beta("extended-cache-ttl-2025-04-11, a-1"),
            "extended-cache-ttl-2025-04-11,a-1");
}

}  // namespace
}  // namespace awf::proxy
