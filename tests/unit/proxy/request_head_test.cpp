#include "proxy/request_head.h"

#include <gtest/gtest.h>

#include <string>

using namespace std::string_literals;

namespace awf::http {
namespace {

std::optional<std::string> check(const std::string& head) { return check_request_head(head); }

TEST(RequestHead, AcceptsOrdinaryRequests) {
  EXPECT_EQ(check("GET http://a.test/x HTTP/1.1\r\nHost: a.test\r\nUser-Agent: t\r\n\r\n"),
            std::nullopt);
  EXPECT_EQ(check("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n"), std::nullopt);
  EXPECT_EQ(check("GET / HTTP/1.0\r\n\r\n"), std::nullopt);
  EXPECT_EQ(check("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"), std::nullopt);
  EXPECT_EQ(check("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            std::nullopt);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n"), std::nullopt);
}

TEST(RequestHead, RefusesSmugglingShapes) {
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_TRUE(check("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
}

TEST(RequestHead, RefusesBareLineEndsAndControls) {
  EXPECT_TRUE(check("GET / HTTP/1.1\nHost: a\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"s));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"));
}

TEST(RequestHead, RefusesObsoleteFoldingAndBadNames) {
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\n: a\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nNoColon\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\nX(y): a\r\n\r\n"));
}

TEST(RequestHead, RefusesBadRequestLines) {
  EXPECT_TRUE(check("\r\n\r\n"));
  EXPECT_TRUE(check("GET\r\n\r\n"));
  EXPECT_TRUE(check("GET /\r\n\r\n"));
  EXPECT_TRUE(check("GET  / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/2.0\r\n\r\n"));
  EXPECT_TRUE(check("GET / http/1.1\r\n\r\n"));
  EXPECT_TRUE(check("G@T / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(check("GET /a b HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(check("GET / HTTP/1.1 \r\n\r\n"));
}

TEST(RequestHead, EnforcesLimits) {
  const std::string long_target(kMaxRequestLine, 'a');
  EXPECT_TRUE(check("GET /" + long_target + " HTTP/1.1\r\n\r\n"));
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < kMaxHeaderCount; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(check(many + "\r\n"), std::nullopt);
  EXPECT_TRUE(check(many + "X-last: v\r\n\r\n"));
  const std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHead, 'v') + "\r\n\r\n";
  EXPECT_TRUE(check(huge));
}

TEST(RequestHead, FindsTheEndOfTheHead) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\nbody"), 18u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r"), 0u);
  EXPECT_EQ(find_head_end(""), 0u);
}

}  // namespace
}  // namespace awf::http
