#include "proxy/verdict.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/url_pattern.h"

namespace awf::proxy {
namespace {

const policy::Policy& test_policy() {
  static const policy::Policy policy =
      policy::Policy::build({"allowed.test", "https://secure.test", "bump.test", "203.0.113.10"},
                            {"blocked.allowed.test", "host.docker.internal"});
  return policy;
}

struct Case {
  const char* label;
  Entry entry;
  std::string host;
  std::uint16_t port;
  bool host_access;
  Denial denial;
  Route route;
  int status;
  const char* reason_part;  // a substring of the reason
};

std::ostream& operator<<(std::ostream& out, const Case& c) {
  return out << c.label;
}

class VerdictTable : public ::testing::TestWithParam<Case> {};

TEST_P(VerdictTable, Decides) {
  const Case& c = GetParam();
  static const std::vector<policy::PortRange> host_ports{{3000, 3001}};
  static const std::vector<policy::UrlPattern> patterns =
      policy::parse_url_patterns({"https://bump.test/api/*"});
  VerdictOptions options;
  options.host_access = c.host_access;
  options.host_ports = &host_ports;
  options.url_patterns = &patterns;
  VerdictRequest request;
  request.entry = c.entry;
  request.host = c.host;
  request.port = c.port;
  request.url = c.host + ":" + std::to_string(c.port);
  const Verdict verdict = decide_request(test_policy(), options, request);
  EXPECT_EQ(verdict.denial, c.denial);
  EXPECT_EQ(verdict.route, c.route);
  EXPECT_EQ(verdict.status, c.status);
  EXPECT_NE(verdict.reason.find(c.reason_part), std::string::npos) << verdict.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Entries, VerdictTable,
    ::testing::Values(
        Case{"http allowed", Entry::Http, "Allowed.Test", 80, false, Denial::None, Route::Origin, 0,
             "allowed by 'allowed.test'"},
        Case{"http not listed", Entry::Http, "other.test", 80, false, Denial::Policy, Route::None,
             403, "not in allowlist"},
        Case{"http blocked subdomain", Entry::Http, "blocked.allowed.test", 80, false,
             Denial::Policy, Route::None, 403, "blocked by"},
        Case{"http https-only rule", Entry::Http, "secure.test", 80, false, Denial::Policy,
             Route::None, 403, "https only"},
        Case{"connect https-only rule", Entry::Connect, "secure.test", 443, false, Denial::None,
             Route::Origin, 0, "allowed"},
        Case{"connect other port", Entry::Connect, "allowed.test", 22, false, Denial::Port,
             Route::None, 403, "port 22 is not allowed (80, 443)"},
        Case{"http other port", Entry::Http, "allowed.test", 8080, false, Denial::Port, Route::None,
             403, "port 8080 is not allowed"},
        Case{"policy before port", Entry::Connect, "other.test", 22, false, Denial::Policy,
             Route::None, 403, "not in allowlist"},
        Case{"ip literal", Entry::Connect, "203.0.113.10", 443, false, Denial::None, Route::Origin,
             0, "allowed"},
        Case{"connect intercepted", Entry::Connect, "bump.test", 443, false, Denial::None,
             Route::Intercept, 0, "; intercepted (--ssl-bump)"},
        Case{"tls intercepted", Entry::Tls, "BUMP.test.", 443, false, Denial::None,
             Route::Intercept, 0, "intercepted"},
        // A tunnel to another port would carry requests no --allow-urls rule ever saw.
        Case{"connect to a url-rule host on 80", Entry::Connect, "bump.test", 80, false,
             Denial::PlainHttpUrlRules, Route::None, 403, "they apply on port 443 only"},
        Case{"plain http to a url-rule host", Entry::Http, "bump.test", 80, false,
             Denial::PlainHttpUrlRules, Route::None, 403, "only https:// URLs can match"},
        Case{"api never intercepted", Entry::Api, "bump.test", 443, false, Denial::None,
             Route::Origin, 0, "allowed"},
        Case{"docker host off: the policy decides", Entry::Connect, "host.docker.internal", 443,
             false, Denial::Policy, Route::None, 403, "blocked by"},
        Case{"docker host on", Entry::Connect, "Host.Docker.Internal.", 443, true, Denial::None,
             Route::DockerHost, 0, "host access (--enable-host-access)"},
        Case{"docker host extra port", Entry::Http, "host.docker.internal", 3001, true,
             Denial::None, Route::DockerHost, 0, "host access"},
        Case{"docker host closed port", Entry::Tls, "host.docker.internal", 5432, true,
             Denial::HostPort, Route::None, 403, "port 5432 of the host is not open"},
        Case{"api ignores docker host", Entry::Api, "host.docker.internal", 443, true,
             Denial::Policy, Route::None, 403, "blocked by"},
        Case{"tls port unchecked", Entry::Tls, "allowed.test", 8443, false, Denial::None,
             Route::Origin, 0, "allowed"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = info.param.label;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

// A CONNECT under an https:// rule must carry TLS (checked on the tunnel's first bytes); one
// under a rule for both, or to the Docker host, may carry anything.
TEST(Verdict, TlsOnlyForHttpsOnlyRules) {
  VerdictOptions options;
  VerdictRequest request;
  request.entry = Entry::Connect;
  request.port = 80;
  request.host = "secure.test";
  EXPECT_TRUE(decide_request(test_policy(), options, request).tls_only);
  request.port = 443;
  EXPECT_TRUE(decide_request(test_policy(), options, request).tls_only);
  request.host = "allowed.test";
  EXPECT_FALSE(decide_request(test_policy(), options, request).tls_only);
  request.entry = Entry::Tls;
  request.host = "secure.test";
  EXPECT_FALSE(decide_request(test_policy(), options, request).tls_only);  // TLS by listener
}

constexpr char kToken[] = "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

TEST(Verdict, CredentialFirstAndRedacted) {
  VerdictOptions options;
  options.dlp = true;
  VerdictRequest request;
  request.entry = Entry::Http;
  request.host = "allowed.test";
  request.port = 80;
  request.url = std::string("http://allowed.test/x?t=") + kToken;
  request.host_field = "allowed.test";
  request.scan.url = request.scan.host_field = true;
  request.unreadable = Unreadable{400, "request without a Host header", ""};
  const Verdict verdict = decide_request(test_policy(), options, request);
  EXPECT_EQ(verdict.denial, Denial::Credential);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.route, Route::None);
  EXPECT_NE(verdict.reason.find("--enable-dlp"), std::string::npos);
  EXPECT_EQ(verdict.url.find(kToken), std::string::npos) << verdict.url;
  EXPECT_EQ(verdict.name, "allowed.test");
}

TEST(Verdict, CredentialInNameRedactsName) {
  VerdictOptions options;
  options.dlp = true;
  VerdictRequest request;
  request.entry = Entry::Tls;
  request.host = std::string(kToken) + ".allowed.test";
  request.port = 443;
  request.url = request.host + ":443";
  request.host_field = request.url;
  request.scan.host = true;
  const Verdict verdict = decide_request(test_policy(), options, request);
  EXPECT_EQ(verdict.denial, Denial::Credential);
  EXPECT_EQ(verdict.name.find(kToken), std::string::npos) << verdict.name;
  EXPECT_EQ(verdict.host_field.find(kToken), std::string::npos) << verdict.host_field;
}

TEST(Verdict, CredentialIgnoredWithoutDlp) {
  VerdictRequest request;
  request.entry = Entry::Http;
  request.host = "allowed.test";
  request.port = 80;
  request.url = std::string("http://allowed.test/?t=") + kToken;
  request.scan.url = true;
  const Verdict verdict = decide_request(test_policy(), VerdictOptions{}, request);
  EXPECT_TRUE(verdict.allowed());
  EXPECT_EQ(verdict.url, request.url);
}

TEST(Verdict, UnreadableKeepsItsStatusAndName) {
  VerdictRequest request;
  request.entry = Entry::Tls;
  request.url = "203.0.113.10:443";
  request.unreadable = Unreadable{403, "TLS ClientHello without SNI", "203.0.113.10"};
  const Verdict verdict = decide_request(test_policy(), VerdictOptions{}, request);
  EXPECT_EQ(verdict.denial, Denial::Unreadable);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.name, "203.0.113.10");
  EXPECT_EQ(verdict.route, Route::None);
  EXPECT_EQ(refusal_text(verdict), "awf: TLS ClientHello without SNI\n");
}

TEST(Verdict, RefusalWording) {
  Verdict verdict;
  verdict.denial = Denial::Policy;
  verdict.name = "blocked.test";
  verdict.reason = "not in allowlist";
  EXPECT_EQ(refusal_text(verdict),
            "awf: blocked 'blocked.test': not in allowlist. To allow it: --allow-domains "
            "blocked.test\n");
  verdict.denial = Denial::Port;
  verdict.reason = "port 22 is not allowed (80, 443)";
  EXPECT_EQ(refusal_text(verdict),
            "awf: blocked 'blocked.test': port 22 is not allowed (80, 443).\n");
  EXPECT_EQ(blocked_url_text("https://a.test/x", "no --allow-urls pattern matches"),
            "awf: blocked https://a.test/x: no --allow-urls pattern matches\n");
  EXPECT_EQ(plain_refusal_text("request head larger than 1 bytes"),
            "awf: request head larger than 1 bytes\n");
  // localhost is the sandbox itself: allowing it would open the host's loopback instead.
  verdict.denial = Denial::Policy;
  verdict.reason = "not in allowlist";
  for (const char* name : {"localhost", "app.localhost", "127.0.0.1"}) {
    verdict.name = name;
    const std::string text = refusal_text(verdict);
    EXPECT_EQ(text.find("--allow-domains"), std::string::npos) << text;
    EXPECT_NE(text.find("use --enable-host-access and host.docker.internal"), std::string::npos);
  }
}

TEST(Verdict, DisplayName) {
  EXPECT_EQ(display_name("Allowed.TEST."), "allowed.test");
  EXPECT_EQ(display_name("bad name"), "bad name");
}

}  // namespace
}  // namespace awf::proxy

namespace awf::proxy {
namespace {

struct InterceptCase {
  const char* label;
  std::string host_field;
  std::string target;
  std::string header_value;
  Denial denial;
  int status;
  const char* reason_part;
};

std::ostream& operator<<(std::ostream& out, const InterceptCase& c) {
  return out << c.label;
}

class InterceptedTable : public ::testing::TestWithParam<InterceptCase> {};

TEST_P(InterceptedTable, Decides) {
  const InterceptCase& c = GetParam();
  static const std::vector<policy::UrlPattern> patterns =
      policy::parse_url_patterns({"https://bump.test/api/*"});
  VerdictOptions options;
  options.dlp = true;
  options.url_patterns = &patterns;
  const std::optional<std::string> path = policy::canonical_request_path(c.target);
  InterceptedRequest request;
  request.session_name = "bump.test";
  request.url = "https://bump.test" + (path ? *path : c.target);
  request.host_field = c.host_field;
  request.target = c.target;
  request.path = &path;
  request.headers = {{"Accept", "*/*"}, {"X-Extra", c.header_value}};
  const Verdict verdict = decide_intercepted(options, request);
  EXPECT_EQ(verdict.denial, c.denial);
  EXPECT_EQ(verdict.status, c.status);
  EXPECT_EQ(verdict.route, c.denial == Denial::None ? Route::Origin : Route::None);
  EXPECT_NE(verdict.reason.find(c.reason_part), std::string::npos) << verdict.reason;
  EXPECT_EQ(verdict.url.find(kToken), std::string::npos) << verdict.url;
}

INSTANTIATE_TEST_SUITE_P(
    Requests, InterceptedTable,
    ::testing::Values(
        InterceptCase{"allowed", "bump.test", "/api/x", "", Denial::None, 0, ""},
        InterceptCase{"allowed with port", "BUMP.test:443", "/api/./x", "", Denial::None, 0, ""},
        InterceptCase{"other path", "bump.test", "/admin", "", Denial::UrlNotAllowed, 403,
                      "no --allow-urls pattern matches https://bump.test/admin"},
        InterceptCase{"fronting", "other.test", "/api/x", "", Denial::OtherHost, 421,
                      "Host 'other.test' does not match the TLS name 'bump.test'"},
        InterceptCase{"no host", "", "/api/x", "", Denial::OtherHost, 421, "does not match"},
        InterceptCase{"encoded slash", "bump.test", "/api%2fx", "", Denial::Unreadable, 400,
                      "is not a plain path"},
        InterceptCase{"credential in url first", "other.test", std::string("/api/x?k=") + kToken,
                      "", Denial::Credential, 403, "--enable-dlp"},
        InterceptCase{"credential in a header", "bump.test", "/api/x", kToken, Denial::Credential,
                      403, "(in the X-Extra header)"}),
    [](const ::testing::TestParamInfo<InterceptCase>& info) {
      std::string name = info.param.label;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace awf::proxy
