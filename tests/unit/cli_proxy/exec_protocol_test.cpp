#include "cli_proxy/exec_protocol.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace awf::cli_proxy {
namespace {

std::string error_of(std::string_view body) {
  try {
    parse_exec_request(body);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(ExecRequest, ParsesEveryField) {
  const ExecRequest request = parse_exec_request(
      R"({"args":["api","repos/o/r"],"cwd":"/w","stdin":"aGk=","env":{"GH_REPO":"o/r"},"x":1})");
  EXPECT_EQ(request.args, (std::vector<std::string>{"api", "repos/o/r"}));
  EXPECT_EQ(request.cwd, "/w");
  EXPECT_EQ(request.stdin_data, "hi");
  ASSERT_EQ(request.env.size(), 1u);
  EXPECT_EQ(request.env[0].first, "GH_REPO");
}

TEST(ExecRequest, OptionalFieldsMayBeNullOrAbsent) {
  const ExecRequest request = parse_exec_request(R"({"args":[],"cwd":null,"stdin":null})");
  EXPECT_TRUE(request.args.empty());
  EXPECT_EQ(request.cwd, "");
  EXPECT_EQ(request.stdin_data, "");
  EXPECT_EQ(parse_exec_request(R"({"args":["x"],"stdin":""})").stdin_data, "");
}

TEST(ExecRequest, RefusesWrongTypesNamingTheField) {
  EXPECT_EQ(error_of("nope"), "the request body is not JSON");
  EXPECT_EQ(error_of("[1]"), "the request body is not an object");
  EXPECT_EQ(error_of("{}"), "args must be an array");
  EXPECT_EQ(error_of(R"({"args":"pr list"})"), "args must be an array");
  EXPECT_EQ(error_of(R"({"args":["pr",1]})"), "All args must be strings");
  EXPECT_EQ(error_of(R"({"args":[],"cwd":5})"), "cwd must be a string");
  EXPECT_EQ(error_of(R"({"args":[],"stdin":"***"})"), "stdin must be base64");
  EXPECT_EQ(error_of(R"({"args":[],"env":[]})"), "env must be an object");
  EXPECT_EQ(error_of(R"({"args":[],"env":{"A":1}})"), "env.A must be a string");
}

TEST(ExecRequest, BoundsSizes) {
  std::string many = R"({"args":[)";
  for (std::size_t i = 0; i <= kMaxArgs; ++i) many += (i ? ",\"a\"" : "\"a\"");
  many += "]}";
  EXPECT_NE(error_of(many).find("more than"), std::string::npos);
  EXPECT_EQ(error_of(std::string(kMaxRequestBytes + 1, ' ')), "request body too large");
}

TEST(Subcommand, SkipsFlagsAndTheirValuesAsAwf) {
  EXPECT_EQ(find_subcommand({"pr", "list"}), "pr");
  EXPECT_EQ(find_subcommand({"--repo", "o/r", "auth", "status"}), "auth");
  EXPECT_EQ(find_subcommand({"--repo=o/r", "auth"}), "auth");
  EXPECT_EQ(find_subcommand({"--version"}), std::nullopt);
  EXPECT_EQ(find_subcommand({"-R", "o/r"}), std::nullopt);
  EXPECT_EQ(find_subcommand({"--help", "--x"}), std::nullopt);
}

TEST(Subcommand, RefusesTheMetaCommands) {
  for (const char* name : {"alias", "auth", "config", "extension", "extensions", "ext"}) {
    EXPECT_EQ(refusal({name, "list"}), std::string("Subcommand '") + name + "' is not permitted");
  }
  EXPECT_EQ(refusal({"--repo", "o/r", "config", "set"}), "Subcommand 'config' is not permitted");
  EXPECT_EQ(refusal({"api", "repos/o/r"}), std::nullopt);
  EXPECT_EQ(refusal({"--version"}), std::nullopt);
  EXPECT_EQ(refusal({"issue", "list", "--label", "auth"}), std::nullopt);
}

TEST(Environment, TakesOnlyHarmlessVariables) {
  ExecRequest request;
  request.env = {{"GH_HOST", "evil:1"},
                 {"GH_TOKEN", "x"},
                 {"GITHUB_TOKEN", "x"},
                 {"SSL_CERT_FILE", "/w/ca"},
                 {"NODE_EXTRA_CA_CERTS", "a"},
                 {"GIT_SSL_CAINFO", "a"},
                 {"GH_CONFIG_DIR", "/w"},
                 {"HOME", "/w"},
                 {"PATH", "/w"},
                 {"GH_PAGER", "sh"},
                 {"LD_PRELOAD", "/w/x.so"},
                 {"HTTPS_PROXY", "h:1"},
                 {"GIT_SSH_COMMAND", "sh"},
                 {"GH_REPO", "o/r"},
                 {"NO_COLOR", "1"}};
  const auto env = allowed_env(request);
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0].first, "GH_REPO");
  EXPECT_EQ(env[1].first, "NO_COLOR");
  ExecRequest with_nul;
  with_nul.env = {{"GH_REPO", std::string("o/r\0x", 5)}};
  EXPECT_TRUE(allowed_env(with_nul).empty());
}

TEST(Base64, RoundTripsAndIsStrict) {
  for (const std::string& text :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(decode_base64(encode_base64(text)), text);
  }
  EXPECT_EQ(encode_base64("hi"), "aGk=");
  EXPECT_EQ(decode_base64("aGk"), std::nullopt);
  EXPECT_EQ(decode_base64("aG=k"), std::nullopt);
  EXPECT_EQ(decode_base64("a==="), std::nullopt);
  EXPECT_EQ(decode_base64("aGk=aGk="), std::nullopt);
  EXPECT_EQ(decode_base64("aG k"), std::nullopt);
}

TEST(Response, FormatsAndParsesBack) {
  const std::string body = format_exec_response({"out\n", "err", 4});
  EXPECT_EQ(body, R"({"stdout":"out\n","stderr":"err","exitCode":4})");
  const ExecResult back = parse_exec_response(body);
  EXPECT_EQ(back.stdout_data, "out\n");
  EXPECT_EQ(back.stderr_data, "err");
  EXPECT_EQ(back.exit_code, 4);
  EXPECT_EQ(parse_exec_response(R"({"exitCode":999})").exit_code, 255);
  EXPECT_THROW(parse_exec_response(R"({"stdout":""})"), std::invalid_argument);
}

TEST(Response, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(format_exec_response({"\xff", "", 0}),
            "{\"stdout\":\"\xef\xbf\xbd\",\"stderr\":\"\",\"exitCode\":0}");
}

TEST(Response, ErrorBodies) {
  EXPECT_EQ(format_error("nope"), R"({"error":"nope"})");
  EXPECT_EQ(parse_error_message(R"({"error":"nope"})"), "nope");
  EXPECT_EQ(parse_error_message("<html>"), std::nullopt);
}

TEST(Request, ClientFormatParsesOnTheServer) {
  const ExecRequest request =
      parse_exec_request(format_exec_request({"api", "-X", "POST"}, "/w", "body"));
  EXPECT_EQ(request.args, (std::vector<std::string>{"api", "-X", "POST"}));
  EXPECT_EQ(request.cwd, "/w");
  EXPECT_EQ(request.stdin_data, "body");
}

TEST(AccessLog, LinesAsAwfWritesThem) {
  const std::string ts = "2026-01-02T03:04:05.678Z";
  EXPECT_EQ(denied_line(ts, {"auth", "status"}, "Subcommand 'auth' is not permitted"),
            R"({"timestamp":"2026-01-02T03:04:05.678Z","_schema":"cli-proxy-access/v0.28.0",)"
            R"("event":"exec_denied","args":["auth","status"],)"
            R"("error":"Subcommand 'auth' is not permitted"})"
            "\n");
  EXPECT_NE(start_line(ts, {"api"}, "").find(R"("cwd":null)"), std::string::npos);
  const std::string done = done_line(ts, {"api"}, {"o", "boom", 1}, 12);
  EXPECT_NE(done.find(R"("exitCode":1,"durationMs":12,"stdoutBytes":1,"stderrBytes":4,)"
                      R"("stderrPreview":"boom")"),
            std::string::npos);
  EXPECT_EQ(done_line(ts, {"api"}, {"o", "warn", 0}, 1).find("stderrPreview"), std::string::npos);
  EXPECT_NE(error_line(ts, "Invalid JSON body").find(R"("event":"exec_error")"), std::string::npos);
}

}  // namespace
}  // namespace awf::cli_proxy
