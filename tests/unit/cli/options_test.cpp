#include "cli/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace awf::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Options parse(std::vector<std::string> words) {
  words.insert(words.begin(), "awf");
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  ParseResult result = parse_options(static_cast<int>(argv.size()), argv.data());
  EXPECT_TRUE(result.options);
  return result.options.value_or(Options{});
}

std::string usage_error(std::vector<std::string> words) {
  try {
    parse(std::move(words));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Options, CommandForms) {
  EXPECT_THAT(parse({"-d", "a.test", "--", "curl", "-s"}).command, ElementsAre("curl", "-s"));
  EXPECT_THAT(parse({"echo hi"}).command, ElementsAre("/bin/bash", "-c", "echo hi"));
  EXPECT_THAT(usage_error({"-d", "a.test"}), HasSubstr("no command"));
  EXPECT_THAT(usage_error({"--bogus", "--", "true"}), HasSubstr("bogus"));
}

TEST(Options, EnvironmentFlags) {
  const Options o = parse({"-e", "A=1", "--env", "B=x=y", "--env-all", "--exclude-env", "C",
                           "--tty", "--", "true"});
  ASSERT_EQ(o.env.size(), 2u);
  EXPECT_EQ(o.env[1], (EnvEntry{"B", "x=y"}));
  EXPECT_TRUE(o.env_all);
  EXPECT_TRUE(o.tty);
  EXPECT_THAT(o.exclude_env, ElementsAre("C"));
  EXPECT_THAT(usage_error({"-e", "NOEQUALS", "--", "true"}), HasSubstr("KEY=VALUE"));
  EXPECT_THAT(usage_error({"--exclude-env", "1X", "--", "true"}), HasSubstr("not a valid"));
}

TEST(Options, TimeoutAndDirectories) {
  EXPECT_EQ(parse({"--agent-timeout", "30", "--", "true"}).agent_timeout_minutes, 30u);
  for (const char* bad : {"0", "-1", "abc", "01", "1.5", "", "999999"}) {
    EXPECT_THAT(usage_error({"--agent-timeout", bad, "--", "true"}), HasSubstr("minutes")) << bad;
  }
  EXPECT_THAT(usage_error({"--container-workdir", "rel", "--", "true"}), HasSubstr("absolute"));
  EXPECT_EQ(parse({"--container-workdir", "/w", "--", "true"}).container_workdir, "/w");
  EXPECT_THAT(usage_error({"-v", "/nonexistent-awf-path:/x", "--", "true"}),
              HasSubstr("does not exist"));
  const Options o = parse({"-v", "/tmp:/mnt/t:ro", "-k", "--", "true"});
  ASSERT_EQ(o.mounts.size(), 1u);
  EXPECT_TRUE(o.mounts[0].read_only);
  EXPECT_TRUE(o.keep_work_dir);
}

TEST(Options, HostPortsAndLocalhostKeyword) {
  EXPECT_THAT(usage_error({"--allow-host-ports", "3000", "--", "true"}),
              HasSubstr("needs --enable-host-access"));
  EXPECT_THAT(usage_error({"--enable-host-access", "--allow-host-ports", "22", "--", "true"}),
              HasSubstr("dangerous"));
  const Options o = parse({"-d", "a.test,localhost", "--", "true"});
  EXPECT_THAT(o.allow_domains, ElementsAre("a.test"));
  EXPECT_TRUE(o.localhost_keyword);
  EXPECT_TRUE(o.enable_host_access);
  EXPECT_EQ(o.host_ports.size(), 12u);
}

TEST(Options, ApiProxyFlags) {
  const Options o = parse({"--enable-api-proxy", "--openai-api-target", "llm.corp.test:8443",
                           "--anthropic-api-target", "https://Claude.Test/",
                           "--openai-api-base-path", "serving-endpoints/", "--api-proxy-ca-file",
                           "/etc/ca.pem", "--", "true"});
  EXPECT_TRUE(o.enable_api_proxy);
  ASSERT_TRUE(o.api_targets[0]);
  EXPECT_EQ(o.api_targets[0]->host, "llm.corp.test");
  EXPECT_EQ(o.api_targets[0]->port, 8443);
  ASSERT_TRUE(o.api_targets[1]);
  EXPECT_EQ(o.api_targets[1]->authority(), "claude.test");
  EXPECT_FALSE(o.api_targets[2]);
  EXPECT_EQ(o.api_base_paths[0], "/serving-endpoints");
  EXPECT_EQ(o.api_proxy_ca_file, "/etc/ca.pem");
  EXPECT_FALSE(parse({"--", "true"}).enable_api_proxy);
}

TEST(Options, SslBumpAndAllowUrls) {
  const Options o = parse({"--ssl-bump", "--allow-urls", "https://github.com/org/*,https://a.test/x",
                           "--ssl-bump-ca-file", "/etc/x.pem", "--", "true"});
  EXPECT_TRUE(o.ssl_bump);
  ASSERT_EQ(o.allow_urls.size(), 2u);
  EXPECT_EQ(o.allow_urls[0].host, "github.com");
  EXPECT_EQ(o.ssl_bump_ca_file, "/etc/x.pem");
  EXPECT_THAT(usage_error({"--allow-urls", "https://github.com/org/*", "--", "true"}),
              HasSubstr("--allow-urls needs --ssl-bump"));
  EXPECT_THAT(usage_error({"--ssl-bump", "--allow-urls", "https://*", "--", "true"}),
              HasSubstr("has a path"));
  EXPECT_THAT(usage_error({"--ssl-bump", "--allow-urls", "https://*.*/x", "--", "true"}),
              HasSubstr("every host"));
  EXPECT_THAT(usage_error({"--ssl-bump", "--allow-urls", "http://github.com/x", "--", "true"}),
              HasSubstr("https://"));
  EXPECT_THAT(usage_error({"--ssl-bump-ca-file", "/x.pem", "--", "true"}),
              HasSubstr("needs --ssl-bump"));
}

TEST(Options, ApiProxyBadValuesAreRefused) {
  EXPECT_THAT(usage_error({"--openai-api-target", "http://x.test", "--", "true"}),
              HasSubstr("--openai-api-target 'http://x.test': only https://"));
  EXPECT_THAT(usage_error({"--gemini-api-target", "x.test/v1", "--", "true"}),
              HasSubstr("without a path"));
  EXPECT_THAT(usage_error({"--gemini-api-base-path", "/a/../b", "--", "true"}),
              HasSubstr("'..'"));
  EXPECT_THAT(usage_error({"--api-proxy-ca-file", "", "--", "true"}), HasSubstr("empty path"));
  // Copilot has no base path flag (AWF has none either).
  EXPECT_THAT(usage_error({"--copilot-api-base-path", "/x", "--", "true"}),
              HasSubstr("copilot-api-base-path"));
}

TEST(Options, DockerFlagsAreRecorded) {
  const Options o =
      parse({"--image-tag", "v1", "--skip-pull", "--network-isolation", "--", "true"});
  EXPECT_THAT(o.docker_only_flags, ElementsAre("--image-tag", "--skip-pull", "--network-isolation"));
}

TEST(Options, ConfigFileAndCommandLinePrecedence) {
  const std::string path = write_temp(
      "awf-config.yaml",
      "allowDomains: [a.test, b.test]\nlog_level: debug\nenv-all: true\ntty: false\n"
      "pids-limit: 50\n");
  Options o = parse({"--config", path, "--", "true"});
  EXPECT_THAT(o.allow_domains, ElementsAre("a.test", "b.test"));
  EXPECT_EQ(o.log_level, LogLevel::Debug);
  EXPECT_TRUE(o.env_all);
  EXPECT_FALSE(o.tty);
  EXPECT_EQ(o.limits.pids, 50u);
  EXPECT_THAT(o.command, ElementsAre("/bin/bash", "-c", "true"));
  // The command line wins, lists included (no merge).
  o = parse({"--config", path, "-d", "c.test", "--log-level", "error", "--", "true"});
  EXPECT_THAT(o.allow_domains, ElementsAre("c.test"));
  EXPECT_EQ(o.log_level, LogLevel::Error);
  EXPECT_THAT(usage_error({"--config", write_temp("bad.yaml", "allow-domain: x\n"), "--", "true"}),
              HasSubstr("unknown key 'allow-domain'"));
  EXPECT_THAT(usage_error({"--config", write_temp("bad2.yaml", "env-all: maybe\n"), "--", "true"}),
              HasSubstr("true or false"));
  EXPECT_THAT(usage_error({"--config", "/nonexistent/awf.yaml", "--", "true"}),
              HasSubstr("cannot read"));
}

}  // namespace
}  // namespace awf::cli
