#include "cli/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cli/suggest.h"

namespace awf::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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
  const Options o = parse(
      {"-e", "A=1", "--env", "B=x=y", "--env-all", "--exclude-env", "C", "--tty", "--", "true"});
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
  const Options o =
      parse({"--enable-api-proxy", "--openai-api-target", "llm.corp.test:8443",
             "--anthropic-api-target", "https://Claude.Test/", "--openai-api-base-path",
             "serving-endpoints/", "--api-proxy-ca-file", "/etc/passwd", "--", "true"});
  EXPECT_TRUE(o.enable_api_proxy);
  ASSERT_TRUE(o.api_targets[0]);
  EXPECT_EQ(o.api_targets[0]->host, "llm.corp.test");
  EXPECT_EQ(o.api_targets[0]->port, 8443);
  ASSERT_TRUE(o.api_targets[1]);
  EXPECT_EQ(o.api_targets[1]->authority(), "claude.test");
  EXPECT_FALSE(o.api_targets[2]);
  EXPECT_EQ(o.api_base_paths[0], "/serving-endpoints");
  EXPECT_EQ(o.api_proxy_ca_file, "/etc/passwd");
  EXPECT_FALSE(parse({"--", "true"}).enable_api_proxy);
}

TEST(Options, SslBumpAndAllowUrls) {
  const Options o =
      parse({"--ssl-bump", "--allow-urls", "https://github.com/org/*,https://a.test/x",
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
  EXPECT_THAT(usage_error({"--gemini-api-base-path", "/a/../b", "--", "true"}), HasSubstr("'..'"));
  EXPECT_THAT(usage_error({"--api-proxy-ca-file", "", "--", "true"}), HasSubstr("empty path"));
  // Checked even with the API proxy off: a typo would otherwise surface only when it is on.
  EXPECT_THAT(usage_error({"--api-proxy-ca-file", "/nonexistent/ca.pem", "--", "true"}),
              HasSubstr("--api-proxy-ca-file '/nonexistent/ca.pem': cannot read the file"));
  // Copilot has no base path flag (AWF has none either).
  EXPECT_THAT(usage_error({"--copilot-api-base-path", "/x", "--", "true"}),
              HasSubstr("copilot-api-base-path"));
}

TEST(Options, FlagsWithoutEffectGetOneNoticeEach) {
  const Options o = parse({"--image-tag", "v1", "--skip-pull", "-b", "--network-isolation",
                           "--legacy-security", "--cloud-hypervisor-vcpus", "2", "--", "true"});
  EXPECT_THAT(o.notices,
              ElementsAre(HasSubstr("--build-local"),
                          "awf: --image-tag has no effect in awf: it applies to AWF's Docker "
                          "backend",
                          HasSubstr("--skip-pull has no effect"),
                          HasSubstr("--cloud-hypervisor-vcpus has no effect in awf: awf runs no "
                                    "microVM"),
                          HasSubstr("--legacy-security has no effect")));
}

TEST(Options, PendingApiFlagsAreCheckedAndKept) {
  const Options o = parse({"--difc-proxy-host",
                           "awmg-cli-proxy:18443",
                           "--difc-proxy-ca-cert",
                           "/tmp/ca.crt",
                           "--rate-limit-rpm",
                           "60",
                           "--no-rate-limit",
                           "--max-model-multiplier",
                           "opus:10,haiku:0.5",
                           "--max-model-multiplier-cap",
                           "4",
                           "--max-cache-misses",
                           "5",
                           "--anthropic-cache-tail-ttl",
                           "1h",
                           "--openai-base-url-env",
                           "MY_URL",
                           "--vertex-api-target",
                           "vertex.test",
                           "--enable-token-steering",
                           "--",
                           "true"});
  EXPECT_EQ(o.pending.difc_proxy_host, "awmg-cli-proxy:18443");
  EXPECT_EQ(o.pending.difc_proxy_ca_cert, "/tmp/ca.crt");
  EXPECT_EQ(o.pending.rate_limit_rpm, 60u);
  EXPECT_TRUE(o.pending.no_rate_limit && o.pending.enable_token_steering);
  ASSERT_EQ(o.pending.model_multipliers.size(), 2u);
  EXPECT_EQ(o.pending.model_multipliers[1], (std::pair<std::string, double>{"haiku", 0.5}));
  EXPECT_EQ(o.pending.max_model_multiplier_cap, 4.0);
  EXPECT_EQ(o.pending.max_cache_misses, 5u);
  EXPECT_EQ(o.pending.anthropic_cache_tail_ttl, "1h");
  EXPECT_EQ(o.api_targets[static_cast<std::size_t>(proxy::Provider::Vertex)]->host, "vertex.test");
  EXPECT_EQ(o.openai_base_url_env, "MY_URL");
  // All of them are built (budgets, token steering, Anthropic auto-cache): no notice.
  EXPECT_THAT(o.notices, IsEmpty());
  EXPECT_THAT(usage_error({"--difc-proxy-host", "nohost", "--", "true"}), HasSubstr("HOST:PORT"));
  EXPECT_THAT(usage_error({"--rate-limit-rph", "0", "--", "true"}), HasSubstr("positive whole"));
  EXPECT_THAT(usage_error({"--max-model-multiplier", "opus", "--", "true"}),
              HasSubstr("MODEL:MULTIPLIER"));
  EXPECT_THAT(usage_error({"--max-model-multiplier", ":2", "--", "true"}),
              HasSubstr("MODEL:MULTIPLIER"));
  EXPECT_THAT(usage_error({"--max-model-multiplier", "opus:0", "--", "true"}),
              HasSubstr("positive number"));
  // As AWF: trimmed, empty entries skipped, the last one for a model wins.
  EXPECT_THAT(parse({"--max-model-multiplier", " opus : 3 ,, haiku:1,opus:4,", "--", "true"})
                  .pending.model_multipliers,
              ElementsAre(std::pair<std::string, double>{"opus", 4},
                          std::pair<std::string, double>{"haiku", 1}));
  EXPECT_THAT(usage_error({"--anthropic-cache-tail-ttl", "2h", "--", "true"}),
              HasSubstr("5m or 1h"));
  EXPECT_THAT(usage_error({"--openai-api-auth-header", "a b", "--", "true"}), HasSubstr("header"));
  EXPECT_THAT(usage_error({"--no-enable-api-proxy", "--", "true"}), HasSubstr("not allowed"));
  EXPECT_THAT(usage_error({"--security-mode", "lax", "--", "true"}), HasSubstr("strict or compat"));
  EXPECT_TRUE(parse({"--reflect"}).reflect);
  EXPECT_THAT(usage_error({"--openai-base-url-env", "1X", "--", "true"}),
              HasSubstr("not a valid variable name"));
  EXPECT_THAT(usage_error({"--anthropic-api-auth-header", "Host", "--", "true"}),
              HasSubstr("cannot carry the key"));
  const Options headers = parse({"--openai-api-auth-header", "api-key", "--", "true"});
  EXPECT_EQ(headers.api_auth_headers[static_cast<std::size_t>(proxy::Provider::OpenAi)], "api-key");
  EXPECT_THAT(usage_error({"--reflect", "--", "true"}), HasSubstr("cannot be used with a command"));
}

TEST(Options, ModelPolicyKeysAreHonouredAndChecked) {
  const std::string path =
      write_temp("awf-models.json", R"({"apiProxy": {"models": {"agent": ["openai/gpt-5"]},
          "allowedModels": ["gpt-*"], "disallowedModels": ["*opus*"], "requestedModel": "agent"}})");
  const Options o = parse({"--config", path, "--", "true"});
  EXPECT_TRUE(o.notices.empty()) << o.notices.front();
  ASSERT_EQ(o.model_policy.aliases.size(), 1u);
  EXPECT_THAT(o.model_policy.allowed, ElementsAre("gpt-*"));
  EXPECT_THAT(o.model_policy.disallowed, ElementsAre("*opus*"));
  EXPECT_EQ(o.model_policy.requested_model, "agent");
  const std::string bad =
      write_temp("awf-models-bad.json", R"({"apiProxy": {"models": {"agent": "gpt-5"}}})");
  EXPECT_THAT(usage_error({"--config", bad, "--", "true"}),
              HasSubstr("config.apiProxy.models.agent"));
}

TEST(Options, ContainerRuntimes) {
  EXPECT_THAT(parse({"--container-runtime", "gvisor", "--", "true"}).notices,
              ElementsAre("awf: --container-runtime gvisor: awf provides Linux namespaces and a "
                          "seccomp filter, not gVisor's user-space kernel"));
  EXPECT_THAT(parse({"--container-runtime", "docker", "--", "true"}).notices,
              ElementsAre(HasSubstr("its own namespace sandbox")));
  for (const char* vm : {"cloud-hypervisor", "nvx"}) {
    try {
      parse({"--container-runtime", vm, "--cloud-hypervisor-vcpus", "2", "--", "true"});
      ADD_FAILURE() << vm << " was accepted";
    } catch (const UsageError&) {
      ADD_FAILURE() << vm << ": a refusal, not a usage error";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr("awf provides Linux namespaces and seccomp, not a VM"));
    }
  }
  EXPECT_THAT(usage_error({"--container-runtime", "runc", "--", "true"}),
              HasSubstr("expected docker, gvisor, sbx, cloud-hypervisor or nvx"));
}

TEST(Options, HomeAndRepositoryFlags) {
  const Options o = parse({"--persist-home-dir", ".npm", "--persist-home-dir", ".cache/pip",
                           "--allow-git-write", "/", "--", "true"});
  EXPECT_THAT(o.persist_home_dirs, ElementsAre(".npm", ".cache/pip"));
  EXPECT_THAT(o.allow_git_write, ElementsAre("/"));
  EXPECT_THAT(usage_error({"--persist-home-dir", ".ssh", "--", "true"}),
              HasSubstr("--persist-home-dir '.ssh': name a HOME tool directory"));
  EXPECT_THAT(usage_error({"--persist-home-dir", ".cache/../.ssh", "--", "true"}),
              HasSubstr("--persist-home-dir '.cache/../.ssh'"));
  EXPECT_THAT(usage_error({"--allow-git-write", "/nonexistent-awf-repo", "--", "true"}),
              HasSubstr("--allow-git-write '/nonexistent-awf-repo': not an existing directory"));
}

TEST(Options, UnixSocketFlags) {
  // A -v of a socket file names that socket at its container path, after the flag's paths.
  char dir[] = "/tmp/awf-options-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string socket_path = std::string(dir) + "/docker.sock";
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  const Options o = parse({"--allow-unix-socket", "/run/agent.sock", "-v",
                           socket_path + ":/run/docker.sock", "-v", std::string(dir) + ":/data",
                           "--", "true"});
  EXPECT_THAT(o.allow_unix_sockets, ElementsAre("/run/agent.sock", "/run/docker.sock"));
  close(fd);
  unlink(socket_path.c_str());
  rmdir(dir);
  EXPECT_THAT(usage_error({"--allow-unix-socket", "run/docker.sock", "--", "true"}),
              HasSubstr("--allow-unix-socket 'run/docker.sock': name the socket by its absolute "
                        "path"));
}

TEST(Options, LastValueWins) {
  const Options o = parse({"--log-level", "debug", "--log-level", "warn", "--work-dir", "/a",
                           "--work-dir", "/b", "--tty", "--tty", "--", "true"});
  EXPECT_EQ(o.log_level, LogLevel::Warn);
  EXPECT_EQ(o.work_dir, "/b");
  EXPECT_TRUE(o.tty);
  EXPECT_THAT(parse({"-d", "a.test", "-d", "b.test", "--", "true"}).allow_domains,
              ElementsAre("a.test", "b.test"));
}

TEST(Options, ClearMessagesInsteadOfCli11s) {
  EXPECT_EQ(usage_error({"--log-level"}),
            "--log-level needs a value (--log-level VALUE, or --log-level=VALUE)");
  EXPECT_THAT(usage_error({"--alow-domains", "x", "--", "true"}),
              HasSubstr("unknown option '--alow-domains' (did you mean --allow-domains?)"));
  EXPECT_THAT(usage_error({"--tty=maybe", "--", "true"}), HasSubstr("--tty takes no value"));
}

TEST(Options, AwfAndAwfV028Spellings) {
  const Options o = parse({"--api-proxy-ca-cert", "/etc/passwd", "--network-isolation",
                           "--enable-api-proxy", "--", "true"});
  EXPECT_EQ(o.api_proxy_ca_file, "/etc/passwd");
  EXPECT_TRUE(o.notices.empty());
}

TEST(Suggest, MistypedSubcommands) {
  EXPECT_THAT(mistyped_subcommand({"log"}).value_or(""), HasSubstr("did you mean 'awf logs'?"));
  EXPECT_THAT(mistyped_subcommand({"polcy", "explain"}).value_or(""),
              HasSubstr("did you mean 'awf policy'?"));
  EXPECT_THAT(mistyped_subcommand({"logs-summary"}).value_or(""),
              HasSubstr("did you mean 'awf logs summary'?"));
  EXPECT_THAT(mistyped_subcommand({"completion", "zhs"}).value_or(""),
              HasSubstr("did you mean 'awf completion zsh'?"));
  EXPECT_THAT(mistyped_subcommand({"completion", "bsh"}).value_or(""),
              HasSubstr("did you mean 'awf completion bash'?"));
  EXPECT_THAT(mistyped_subcommand({"completion", "fish", "x"}).value_or(""),
              HasSubstr("nothing after it"));
  for (const std::vector<std::string>& fine :
       std::vector<std::vector<std::string>>{{"ls"},
                                             {"echo hi"},
                                             {"make"},
                                             {"logs"},
                                             {"man", "ls"},
                                             {"--", "log"},
                                             {"-d", "x", "log"},
                                             {"less"},
                                             {"git"},
                                             {"completion", "bash"},
                                             {"completion", "zsh"},
                                             {"completion", "fish"},
                                             {"/usr/bin/log"}}) {
    EXPECT_FALSE(mistyped_subcommand(fine)) << fine.front();
  }
  EXPECT_EQ(edit_distance("polcy", "policy"), 1u);
  EXPECT_EQ(edit_distance("lgos", "logs"), 1u);
}

TEST(Options, ConfigFileAndCommandLinePrecedence) {
  const std::string path =
      write_temp("awf-config.yaml",
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

TEST(Options, StructuredConfigAndCommandLinePrecedence) {
  const std::string path =
      write_temp("awf-structured.json",
                 R"({"network": {"allowDomains": ["a.test", "b.test"], "isolation": true},
          "container": {"mounts": ["/tmp:/data:ro"], "imageTag": "1", "pidsLimit": 77},
          "environment": {"excludeEnv": ["X1"], "envAll": true},
          "logging": {"logLevel": "debug"}, "apiProxy": {"maxRuns": 3}})");
  Options o = parse({"--config", path, "--", "true"});
  EXPECT_THAT(o.allow_domains, ElementsAre("a.test", "b.test"));
  ASSERT_EQ(o.mounts.size(), 1u);
  EXPECT_EQ(o.mounts[0].container, "/data");
  EXPECT_EQ(o.limits.pids, 77u);
  EXPECT_THAT(o.exclude_env, ElementsAre("X1"));
  EXPECT_EQ(o.log_level, LogLevel::Debug);
  // Notices name the key the value came from (apiProxy.maxRuns is a budget: none).
  EXPECT_THAT(o.notices, ElementsAre("awf: config.container.imageTag has no effect in awf: it "
                                     "applies to AWF's Docker backend"));
  EXPECT_THAT(o.pending.api_proxy_config, HasSubstr("maxRuns"));
  EXPECT_TRUE(o.model_policy.inactive());
  // Lists on the command line replace the file's; scalars override it.
  o = parse({"--config", path, "-d", "c.test", "--exclude-env", "Y", "--pids-limit", "9",
             "--image-tag", "2", "--", "true"});
  EXPECT_THAT(o.allow_domains, ElementsAre("c.test"));
  EXPECT_THAT(o.exclude_env, ElementsAre("Y"));
  EXPECT_EQ(o.limits.pids, 9u);
  EXPECT_THAT(o.notices, Contains("awf: --image-tag has no effect in awf: it applies to AWF's "
                                  "Docker backend"));
  EXPECT_THAT(
      usage_error({"--config", write_temp("bad.json", R"({"network": {"foo": 1}})"), "--", "true"}),
      HasSubstr("config.network.foo is not supported"));
}

}  // namespace
}  // namespace awf::cli
