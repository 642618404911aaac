#include "proxy/api_usage.h"

#include <gtest/gtest.h>

#include <string>

namespace awf::proxy {
namespace {

// Feeds `body` in two pieces split at every byte boundary, and whole; all must agree.
void expect_every_split(const std::string& body, bool streaming, const TokenUsage& want,
                        const std::string& model) {
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    UsageObserver observer(streaming);
    observer.feed(std::string_view(body).substr(0, cut));
    observer.feed(std::string_view(body).substr(cut));
    observer.finish();
    SCOPED_TRACE("split at " + std::to_string(cut));
    ASSERT_TRUE(observer.found());
    const TokenUsage got = observer.usage();
    EXPECT_EQ(got.input, want.input);
    EXPECT_EQ(got.output, want.output);
    EXPECT_EQ(got.cache_read, want.cache_read);
    EXPECT_EQ(got.cache_write, want.cache_write);
    EXPECT_EQ(got.reasoning, want.reasoning);
    EXPECT_EQ(observer.model(), model);
    EXPECT_EQ(observer.bytes(), body.size());
  }
  // One byte at a time.
  UsageObserver observer(streaming);
  for (char c : body) observer.feed(std::string_view(&c, 1));
  observer.finish();
  EXPECT_EQ(observer.usage().input, want.input);
  EXPECT_EQ(observer.usage().output, want.output);
}

TokenUsage tokens(std::uint64_t input, std::uint64_t output, std::uint64_t cache_read = 0,
                  std::uint64_t cache_write = 0, std::uint64_t reasoning = 0) {
  TokenUsage usage;
  usage.input = input;
  usage.output = output;
  usage.cache_read = cache_read;
  usage.cache_write = cache_write;
  usage.reasoning = reasoning;
  return usage;
}

TEST(ApiUsage, OpenAiChatCompletionJson) {
  const std::string body = R"({"id":"c1","model":"gpt-5.4","choices":[],"usage":{
    "prompt_tokens":120,"completion_tokens":30,"total_tokens":150,
    "prompt_tokens_details":{"cached_tokens":100},
    "completion_tokens_details":{"reasoning_tokens":7}}})";
  expect_every_split(body, false, tokens(120, 30, 100, 0, 7), "gpt-5.4");
  UsageObserver observer(false);
  observer.feed(body);
  observer.finish();
  EXPECT_TRUE(observer.usage().input_includes_cache);
}

TEST(ApiUsage, OpenAiChatCompletionStream) {
  const std::string body =
      "data: "
      "{\"id\":\"c1\",\"model\":\"gpt-5.4-mini\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"
      "\n\n"
      "data: {\"id\":\"c1\",\"model\":\"gpt-5.4-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":"
      "11,\"completion_tokens\":4,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n"
      "data: [DONE]\n\n";
  expect_every_split(body, true, tokens(11, 4, 2), "gpt-5.4-mini");
}

TEST(ApiUsage, OpenAiResponsesApiStream) {
  const std::string body =
      "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"model\":"
      "\"gpt-5.5\"}}\n\n"
      "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"model\":"
      "\"gpt-5.5\",\"usage\":{\"input_tokens\":50,\"output_tokens\":9,\"input_tokens_details\":"
      "{\"cached_tokens\":40},\"output_tokens_details\":{\"reasoning_tokens\":3}}}}\n\n";
  expect_every_split(body, true, tokens(50, 9, 40, 0, 3), "gpt-5.5");
}

TEST(ApiUsage, OpenAiResponsesApiJson) {
  const std::string body = R"({"id":"r1","model":"gpt-5.5","output":[],
    "usage":{"input_tokens":8,"output_tokens":2,"input_tokens_details":{"cached_tokens":0}}})";
  expect_every_split(body, false, tokens(8, 2), "gpt-5.5");
}

TEST(ApiUsage, AnthropicJson) {
  const std::string body = R"({"id":"m1","type":"message","model":"claude-sonnet-4-5",
    "usage":{"input_tokens":25,"output_tokens":15,"cache_creation_input_tokens":300,
    "cache_read_input_tokens":1200}})";
  expect_every_split(body, false, tokens(25, 15, 1200, 300), "claude-sonnet-4-5");
}

TEST(ApiUsage, AnthropicStreamMergesStartAndDelta) {
  const std::string body =
      "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"model\":"
      "\"claude-opus-4-7\",\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":5,"
      "\"cache_read_input_tokens\":20,\"output_tokens\":1}}}\r\n\r\n"
      "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"delta\":{}}\r\n\r\n"
      "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":"
      "42}}\r\n\r\n"
      "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
  expect_every_split(body, true, tokens(10, 42, 20, 5), "claude-opus-4-7");
}

TEST(ApiUsage, CopilotBreakdownWinsOverLumpedPrompt) {
  const std::string body = R"({"model":"claude-sonnet-4.6","usage":{"prompt_tokens":16396,
    "completion_tokens":362,"prompt_tokens_details":{"cached_tokens":0}},
    "copilot_usage":{"token_details":[{"token_type":"input","token_count":3857},
    {"token_type":"cache_read","token_count":0},{"token_type":"cache_write","token_count":12539},
    {"token_type":"output","token_count":362}]}})";
  expect_every_split(body, false, tokens(3857, 362, 0, 12539), "claude-sonnet-4.6");
  UsageObserver observer(false);
  observer.feed(body);
  observer.finish();
  EXPECT_FALSE(observer.usage().input_includes_cache);
}

TEST(ApiUsage, CopilotCacheWriteWithoutInputIsTakenFromPrompt) {
  const UsageFound found = usage_from_json(
      R"({"usage":{"prompt_tokens":100,"completion_tokens":1},"copilot_usage":{"token_details":[
      {"token_type":"cache_write","token_count":30}]}})");
  const TokenUsage usage = normalize_usage(found.usage);
  EXPECT_EQ(usage.input, 70u);
  EXPECT_EQ(usage.cache_write, 30u);
}

TEST(ApiUsage, GeminiJson) {
  const std::string body = R"({"candidates":[],"modelVersion":"gemini-2.5-pro",
    "usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":21,"totalTokenCount":40,
    "cachedContentTokenCount":4,"thoughtsTokenCount":10}})";
  expect_every_split(body, false, tokens(9, 21, 4, 0, 10), "gemini-2.5-pro");
}

TEST(ApiUsage, GeminiSseLastChunkHasTheTotals) {
  const std::string body =
      "data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":9,"
      "\"candidatesTokenCount\":1},\"modelVersion\":\"gemini-3-flash\"}\r\n\r\n"
      "data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":9,"
      "\"candidatesTokenCount\":17},\"modelVersion\":\"gemini-3-flash\"}\r\n\r\n";
  expect_every_split(body, true, tokens(9, 17), "gemini-3-flash");
}

TEST(ApiUsage, GeminiJsonArrayStream) {
  const std::string body =
      R"([{"candidates":[],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1},
      "modelVersion":"gemini-3.1-pro"},
      {"candidates":[],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":8,
      "thoughtsTokenCount":2},"modelVersion":"gemini-3.1-pro"}])";
  expect_every_split(body, false, tokens(3, 8, 0, 0, 2), "gemini-3.1-pro");
}

TEST(ApiUsage, DataWithoutSpaceAndLastLineWithoutNewline) {
  UsageObserver observer(true);
  observer.feed("data:{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}");
  EXPECT_FALSE(observer.found());  // the line is not complete yet
  observer.finish();
  ASSERT_TRUE(observer.found());
  EXPECT_EQ(observer.usage().output, 2u);
}

TEST(ApiUsage, NoUsageIsNotFound) {
  for (const char* body :
       {R"({"error":{"message":"bad"}})", "not json", "", "[1,2,3]", R"({"usage":"none"})",
        R"({"usage":{"prompt_tokens":-4}})", R"({"usage":{"prompt_tokens":1.5}})", "null"}) {
    UsageObserver observer(false);
    observer.feed(body);
    observer.finish();
    EXPECT_FALSE(observer.found()) << body;
  }
  UsageObserver stream(true);
  stream.feed("event: ping\n: comment\ndata: [DONE]\ndata: {broken\n\n");
  stream.finish();
  EXPECT_FALSE(stream.found());
}

TEST(ApiUsage, MalformedEventsDoNotStopLaterOnes) {
  UsageObserver observer(true);
  observer.feed(
      "data: {\"usage\":{\"prompt_tokens\":\n\ndata: {\"usage\":{\"prompt_tokens\":5}}\n");
  observer.finish();
  EXPECT_EQ(observer.usage().input, 5u);
}

TEST(ApiUsage, HugeLineIsSkippedAndTheNextOneRead) {
  UsageObserver observer(true);
  const std::string huge = "data: {\"pad\":\"" + std::string(kMaxSseLine, 'x') + "\"}";
  for (std::size_t at = 0; at < huge.size(); at += 4096) {
    observer.feed(std::string_view(huge).substr(at, 4096));
  }
  observer.feed("\ndata: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n");
  observer.finish();
  EXPECT_EQ(observer.usage().input, 3u);
  EXPECT_EQ(observer.usage().output, 4u);
}

TEST(ApiUsage, JsonPastTheLimitIsNotAccounted) {
  UsageObserver observer(false);
  const std::string head = R"({"usage":{"prompt_tokens":1},"pad":")";
  const std::string padding(kMaxJsonBody, ' ');
  observer.feed(head);
  observer.feed(padding);
  observer.feed(R"("})");
  observer.finish();
  EXPECT_TRUE(observer.overflowed());
  EXPECT_FALSE(observer.found());
  EXPECT_EQ(observer.bytes(), head.size() + padding.size() + 2);
}

TEST(ApiUsage, DeepNestingIsRefusedWithoutRecursion) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(usage_from_json(deep).usage.any());
  const std::string details =
      R"({"usage":{"prompt_tokens":1,"token_details":[)" + std::string(30, '{') + "}]}}";
  EXPECT_FALSE(usage_from_json(details).usage.any());  // malformed, and deep
}

TEST(ApiUsage, CacheReadFromTokenEntries) {
  const UsageFound found = usage_from_json(
      R"({"usage":{"input_tokens":10,"token_details":[{"token_type":"cache_read","token_count":3},
      {"token_type":"x","details":[{"token_type":"cache_read","token_count":4}]}]}})");
  EXPECT_EQ(normalize_usage(found.usage).cache_read, 7u);
}

TEST(ApiUsage, FirstStreamedModelWins) {
  UsageObserver observer(true);
  observer.feed(
      "data: {\"model\":\"a\"}\ndata: {\"model\":\"b\",\"usage\":{\"prompt_tokens\":1}}\n");
  observer.finish();
  EXPECT_EQ(observer.model(), "a");
}

TEST(ApiUsage, WhichBodiesAreRead) {
  EXPECT_EQ(usage_streaming("text/event-stream; charset=utf-8", ""), true);
  EXPECT_EQ(usage_streaming("Text/Event-Stream", "Identity"), true);
  EXPECT_EQ(usage_streaming("application/json", ""), false);
  EXPECT_EQ(usage_streaming("application/problem+json", ""), false);
  EXPECT_EQ(usage_streaming("", ""), false);
  EXPECT_EQ(usage_streaming("application/json", "gzip"), std::nullopt);
  EXPECT_EQ(usage_streaming("audio/mpeg", ""), std::nullopt);
}

TEST(ApiUsage, ModelOfRequest) {
  EXPECT_EQ(model_of_request(R"({"model":"gpt-5.4","messages":[]})"), "gpt-5.4");
  EXPECT_EQ(model_of_request(R"({"messages":[]})"), "");
  EXPECT_EQ(model_of_request("garbage"), "");
}

}  // namespace
}  // namespace awf::proxy
