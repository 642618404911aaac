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
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: a\r\n"), 0u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r"), 0u);
  // Body bytes after the head are not looked at.
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\n\n\r"), 18u);
  EXPECT_EQ(find_head_end("\r\n\r\n"), 4u);
}

// A head whose lines end in a bare LF (or CR) never holds "\r\n\r\n", or holds it only after
// the bare line end: the head ends at the first bare one, and the check refuses it at once.
TEST(RequestHead, BareLineEndsEndTheHeadAtOnce) {
  const std::string lf_only = "GET http://a.test/ HTTP/1.1\nHost: a.test\n\n";
  const std::size_t end = find_head_end(lf_only);
  EXPECT_EQ(end, lf_only.find('\n') + 1);
  EXPECT_EQ(check(lf_only.substr(0, end)), "bare LF in request head");
  // Only the request line so far: still refused without waiting for more.
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\n"), 15u);
  EXPECT_EQ(check("GET / HTTP/1.1\n"), "bare LF in request head");
  EXPECT_EQ(find_head_end("\n"), 1u);
  // LF LF after CRLF lines, and a bare LF mixed with CRLF.
  const std::string mixed = "GET / HTTP/1.1\r\nHost: a\n\n";
  EXPECT_EQ(find_head_end(mixed), mixed.size() - 1);
  EXPECT_EQ(check(mixed.substr(0, find_head_end(mixed))), "bare LF in request head");
  const std::string mixed_crlf_end = "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n";
  EXPECT_EQ(find_head_end(mixed_crlf_end), mixed_crlf_end.find("a\n") + 2);
  EXPECT_EQ(check(mixed_crlf_end.substr(0, find_head_end(mixed_crlf_end))),
            "bare LF in request head");
  // CR-only line ends, and a CR followed by anything but LF.
  const std::string cr_only = "GET / HTTP/1.1\rHost: a\r\r";
  EXPECT_EQ(find_head_end(cr_only), 15u);
  EXPECT_EQ(check(cr_only.substr(0, 15)), "bare CR in request head");
  EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: a\rX"), "bare CR in request head");
  // A well-formed head is still found whole and accepted.
  const std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(find_head_end(good + "x\ny"), good.size());
  EXPECT_EQ(check(good), std::nullopt);
}

}  // namespace
}  // namespace awf::http
