#include "cli/cli_proxy_setup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/owner.h"

extern "C" char** environ;

namespace awf::cli {
namespace {

// AWF's list: with the DIFC proxy set, none of these enter the sandbox.
constexpr std::array<std::string_view, 7> kGithubTokenVariables = {
    "GITHUB_TOKEN",         "GH_TOKEN",         "GITHUB_PERSONAL_ACCESS_TOKEN",
    "COPILOT_GITHUB_TOKEN", "GITHUB_API_TOKEN", "GITHUB_PAT",
    "GH_ACCESS_TOKEN"};

// The system roots the bundle starts from (Debian's first).
constexpr std::array<const char*, 3> kSystemBundles = {
    "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"};

// Copies GH_TOKEN (else GITHUB_TOKEN) out, then zeroes every GitHub token variable's value in
// place: /proc/<awf>/environ and the sandbox's init (a copy of awf) no longer hold any.
SecretText take_token() {
  SecretText token;
  for (const std::string_view wanted :
       {std::string_view("GH_TOKEN"), std::string_view("GITHUB_TOKEN")}) {
    if (!token.empty()) break;
    const char* value = std::getenv(std::string(wanted).c_str());
    if (value != nullptr && *value != '\0') token = SecretText(value);
  }
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    for (const std::string_view name : kGithubTokenVariables) {
      char* text = *entry;
      if (std::strncmp(text, name.data(), name.size()) != 0 || text[name.size()] != '=') continue;
      explicit_bzero(text + name.size() + 1, std::strlen(text + name.size() + 1));
    }
  }
  return token;
}

// The real gh on awf's PATH (never awf itself under that name).
std::string find_gh() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string own = length > 0 ? std::string(self, static_cast<std::size_t>(length)) : "";
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    const std::string candidate = dir + "/gh";
    char real[PATH_MAX];
    if (access(candidate.c_str(), X_OK) != 0 || !realpath(candidate.c_str(), real)) continue;
    if (real != own) return real;
  }
  throw UsageError(
      "--difc-proxy-host: the GitHub CLI (gh) is not on awf's PATH; awf runs the real gh "
      "outside the sandbox for the command's gh: install it (Debian: apt-get install gh)");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

// System roots plus the DIFC proxy's CA, for gh (SSL_CERT_FILE) and the git it runs.
std::string write_bundle(const Options& options, const std::string& dir) {
  std::string bundle;
  for (const char* path : kSystemBundles) {
    bundle = read_file(path);
    if (!bundle.empty()) break;
  }
  const std::string& ca_file = options.pending.difc_proxy_ca_cert;
  if (!ca_file.empty()) {
    const std::string ca = read_file(ca_file);
    if (ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      throw UsageError("--difc-proxy-ca-cert '" + ca_file +
                       "': not a readable PEM certificate; pass the DIFC proxy's CA file");
    }
    bundle += "\n" + ca;
  }
  const std::string path = dir + "/ca-bundle.pem";
  const UniqueFd fd = open_output_file(path, O_WRONLY | O_TRUNC);
  if (write(fd.get(), bundle.data(), bundle.size()) != static_cast<ssize_t>(bundle.size())) {
    throw errno_error("write " + path);
  }
  return path;
}

std::string port_of(const std::string& host_port) {
  return host_port.substr(host_port.rfind(':') + 1);
}

std::string host_of(const std::string& host_port) {
  std::string host = host_port.substr(0, host_port.rfind(':'));
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

// gh's environment, built from nothing: the DIFC proxy as GH_HOST, the bundle, and gh's
// configuration, state and caches in awf's directory (never the user's own gh config, whose
// aliases could run shell commands).
std::vector<std::string> gh_environment(const Options& options, const std::string& home,
                                        const std::string& bundle) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> env = {
      std::string("PATH=") + (path ? path : "/usr/bin:/bin"),
      "HOME=" + home,
      "GH_CONFIG_DIR=" + home + "/config",
      "XDG_CONFIG_HOME=" + home + "/config",
      "XDG_DATA_HOME=" + home + "/data",
      "XDG_STATE_HOME=" + home + "/state",
      "XDG_CACHE_HOME=" + home + "/cache",
      // The proxy's certificate names localhost only (AWF's choice as well).
      "GH_HOST=localhost:" + port_of(options.pending.difc_proxy_host),
      "SSL_CERT_FILE=" + bundle,
      "GIT_SSL_CAINFO=" + bundle,
      "NODE_EXTRA_CA_CERTS=" + bundle,
      "GH_PROMPT_DISABLED=1",
      "GH_NO_UPDATE_NOTIFIER=1",
      "NO_PROXY=localhost,127.0.0.1,::1",
  };
  if (const char* repo = std::getenv("GITHUB_REPOSITORY"); repo && *repo) {
    env.push_back(std::string("GH_REPO=") + repo);
  }
  for (const char* name : {"LANG", "LC_ALL", "TZ"}) {
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

unsigned probe_attempts() {
  const char* text = std::getenv("AWF_CLI_PROXY_LIVENESS_ATTEMPTS");
  const long value = text ? std::strtol(text, nullptr, 10) : 0;
  return value > 0 && value <= 100 ? static_cast<unsigned>(value) : 5;
}

std::string first_line(const std::string& text) {
  const std::size_t end = text.find('\n');
  return text.substr(0, std::min<std::size_t>(end, 300));
}

// AWF's liveness probe: `gh api rate_limit` until it works, with a growing pause.
void probe(const Options& options, const cli_proxy::Executor& executor) {
  const unsigned attempts = probe_attempts();
  cli_proxy::ExecResult result;
  for (unsigned attempt = 1; attempt <= attempts; ++attempt) {
    result = executor.run({"api", "rate_limit"}, {}, "", std::chrono::seconds(5));
    if (result.exit_code == 0) return;
    if (attempt < attempts)
      std::this_thread::sleep_for(std::chrono::seconds(std::min(1u << (attempt - 1), 8u)));
  }
  const std::string& target = options.pending.difc_proxy_host;
  const std::string host = host_of(target);
  const bool local = host == "localhost" || host == "host.docker.internal" ||
                     host.rfind("127.", 0) == 0 || host == "::1";
  std::string message = "--difc-proxy-host " + target +
                        ": the DIFC proxy did not answer `gh api "
                        "rate_limit` at localhost:" +
                        port_of(target) + " (" + std::to_string(attempts) + " attempts, exit " +
                        std::to_string(result.exit_code) + "): " + first_line(result.stderr_data);
  if (!local) {
    message += "; awf's gh reaches the proxy on the host's localhost:" + port_of(target) +
               " (its certificate names localhost): publish it there, as gh-aw does with "
               "-p 127.0.0.1:" +
               port_of(target) + ":" + port_of(target);
  }
  throw SetupError(message);
}

constexpr std::string_view kHomePrefix = "/tmp/awf-gh-";

// A SIGKILLed awf cannot remove its gh directory (the CA bundle, gh's state; never the
// token): the next run does, for runs whose awf is gone, when it or its caller owns them.
void remove_orphaned_homes() {
  std::error_code error;
  const FileOwner user = invoking_user();
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", error)) {
    const std::string path = entry.path().string();
    if (path.compare(0, kHomePrefix.size(), kHomePrefix) != 0) continue;
    const std::string rest = path.substr(kHomePrefix.size());
    long pid = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    struct stat info {};
    if (ec != std::errc() || end == rest.data() || *end != '-' || pid <= 0 ||
        lstat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
        (info.st_uid != geteuid() && info.st_uid != user.uid)) {
      continue;
    }
    if (kill(static_cast<pid_t>(pid), 0) < 0 && errno == ESRCH) {
      std::filesystem::remove_all(path, error);
    }
  }
}

std::string own_binary() {
  char self[PATH_MAX];
  if (!realpath("/proc/self/exe", self)) throw errno_error("resolve awf's own binary");
  return self;
}

}  // namespace

GhHome::GhHome() {
  remove_orphaned_homes();
  std::string pattern = std::string(kHomePrefix) + std::to_string(getpid()) + "-XXXXXX";
  if (!mkdtemp(pattern.data())) throw errno_error("create gh's directory in /tmp");
  path_ = pattern;
  const UniqueFd dir(open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) throw errno_error("open " + path_);
  give_to_invoking_user(dir.get(), path_);
}

GhHome::~GhHome() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

CliProxySetup setup_cli_proxy(const Options& options) {
  CliProxySetup setup;
  if (options.pending.difc_proxy_host.empty()) return setup;
  cli_proxy::ExecutorConfig config;
  config.token = take_token();
  if (config.token.empty()) {
    throw UsageError(
        "--difc-proxy-host needs the GitHub token in awf's environment (GH_TOKEN "
        "or GITHUB_TOKEN): awf's gh passes it to the DIFC proxy");
  }
  config.gh_path = find_gh();
  setup.home = std::make_unique<GhHome>();
  config.workdir = setup.home->path();
  config.env = gh_environment(options, config.workdir, write_bundle(options, config.workdir));
  const FileOwner user = invoking_user();
  config.uid = user.uid;
  config.gid = user.gid;
  setup.executor = std::make_unique<cli_proxy::Executor>(std::move(config));
  probe(options, *setup.executor);
  setup.env.emplace_back("AWF_CLI_PROXY_URL",
                         "http://127.0.0.1:" + std::to_string(cli_proxy::kPort));
  setup.binds.push_back({own_binary(), std::string(kCliProxyBinDir) + "/gh", true});
  return setup;
}

void prepend_cli_proxy_path(std::vector<std::string>& env) {
  const std::string dir(kCliProxyBinDir);
  for (std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) {
      entry = "PATH=" + dir + (entry.size() > 5 ? ":" + entry.substr(5) : "");
      return;
    }
  }
  env.push_back("PATH=" + dir);
}

std::unique_ptr<cli_proxy::Server> serve_cli_proxy(const CliProxySetup& setup,
                                                   std::vector<sandbox::Listener>& listeners,
                                                   const std::string& logs_dir) {
  if (!setup.enabled()) return nullptr;
  const auto it = std::find_if(listeners.begin(), listeners.end(), [](const sandbox::Listener& l) {
    return l.kind == sandbox::ListenerKind::CliProxy;
  });
  if (it == listeners.end()) throw SetupError("the sandbox did not create the CLI proxy listener");
  UniqueFd listener = std::move(it->fd);
  listeners.erase(it);
  const std::string dir = logs_dir + "/cli-proxy-logs";
  make_output_dirs(dir);
  auto server = std::make_unique<cli_proxy::Server>(
      std::move(listener), *setup.executor,
      open_output_file(dir + "/access.jsonl", O_WRONLY | O_APPEND));
  server->start();
  return server;
}

}  // namespace awf::cli
