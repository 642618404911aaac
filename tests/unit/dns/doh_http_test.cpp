#include "dns/doh_http.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace awf::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;
using State = DohResponse::State;

Bytes bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

// A 12-byte DNS header (an answer with ID 0) as a string body.
const std::string kAnswer("\x00\x00\x81\x80\x00\x00\x00\x00\x00\x00\x00\x00", 12);

std::string ok_head(const std::string& extra) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\n" + extra + "\r\n";
}

DohResponse parse(const std::string& text, bool at_eof = false) {
  const Bytes input = bytes(text);
  return parse_doh_response(input, at_eof);
}

TEST(DohUrl, ParsesNameWithDefaultPortAndPath) {
  const DohUrl url = parse_doh_url("https://dns.google/dns-query");
  EXPECT_EQ(url.host, "dns.google");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.path, "/dns-query");
  EXPECT_FALSE(url.ip_literal);
  EXPECT_EQ(doh_url_text(url), "https://dns.google/dns-query");
}

TEST(DohUrl, NormalizesSchemeAndHostCase) {
  const DohUrl url = parse_doh_url("HTTPS://DoH.Example.:8443/q?x=1");
  EXPECT_EQ(url.host, "doh.example");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.path, "/q?x=1");
  EXPECT_EQ(doh_url_text(url), "https://doh.example:8443/q?x=1");
}

TEST(DohUrl, IpLiterals) {
  const DohUrl v4 = parse_doh_url("https://203.0.113.11:9443/dns-query");
  EXPECT_TRUE(v4.ip_literal);
  EXPECT_EQ(v4.host, "203.0.113.11");
  const DohUrl v6 = parse_doh_url("https://[2001:DB8::0:1]/dns-query");
  EXPECT_TRUE(v6.ip_literal);
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(doh_url_text(v6), "https://[2001:db8::1]/dns-query");
}

TEST(DohUrl, EmptyPathBecomesRoot) {
  EXPECT_EQ(parse_doh_url("https://doh.example").path, "/");
  EXPECT_EQ(parse_doh_url("https://doh.example?dns").path, "/?dns");
}

TEST(DohUrl, RefusesOtherSchemes) {
  try {
    parse_doh_url("http://doh.example/dns-query");
    FAIL() << "http accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("https"), std::string::npos) << error.what();
  }
  EXPECT_THROW(parse_doh_url("tls://doh.example"), std::invalid_argument);
  EXPECT_THROW(parse_doh_url("doh.example/dns-query"), std::invalid_argument);
}

TEST(DohUrl, RefusesMalformedUrls) {
  for (const char* text : {"https://", "https:///dns-query", "https://user@doh.example/",
                           "https://doh.example:0/", "https://doh.example:99999/",
                           "https://doh.example:/x", "https://doh example/",
                           "https://doh.example/a b", "https://doh.example/#frag",
                           "https://do$h.example/", "https://a..b/", "https://1.2.3/",
                           "https://[::1/", "https://::1/", "https://doh.example/\n"}) {
    EXPECT_THROW(parse_doh_url(text), std::invalid_argument) << text;
  }
}

TEST(DohRequest, PostsTheQueryAsTheBody) {
  const DohUrl url = parse_doh_url("https://doh.example:8443/dns-query?x");
  const Bytes query = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
  const std::string request = build_doh_request(url, query);
  const std::string head =
      "POST /dns-query?x HTTP/1.1\r\nHost: doh.example:8443\r\n"
      "Content-Type: application/dns-message\r\nAccept: application/dns-message\r\n"
      "Content-Length: 17\r\n\r\n";
  ASSERT_EQ(request.size(), head.size() + query.size());
  EXPECT_EQ(request.substr(0, head.size()), head);
  EXPECT_EQ(request.substr(head.size()), std::string(query.begin(), query.end()));
}

TEST(DohRequest, DefaultPortLeftOutOfHost) {
  const std::string request = build_doh_request(parse_doh_url("https://[2001:db8::1]/q"), {});
  EXPECT_NE(request.find("\r\nHost: [2001:db8::1]\r\n"), std::string::npos) << request;
}

TEST(DohResponse, ContentLength) {
  const std::string text = ok_head("Content-Length: 12\r\n") + kAnswer;
  const DohResponse r = parse(text);
  ASSERT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.message, bytes(kAnswer));
  EXPECT_EQ(r.consumed, text.size());
  EXPECT_TRUE(r.keep_alive);
}

TEST(DohResponse, IncompleteUntilEveryByteIsThere) {
  const std::string text = ok_head("Content-Length: 12\r\n") + kAnswer;
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_EQ(parse(text.substr(0, cut)).state, State::Incomplete) << cut;
    const DohResponse closed = parse(text.substr(0, cut), true);
    EXPECT_EQ(closed.state, State::Invalid) << cut;
    EXPECT_FALSE(closed.error.empty());
  }
}

TEST(DohResponse, ConsumedStopsAtTheAnswer) {
  const std::string first = ok_head("Content-Length: 12\r\n") + kAnswer;
  const DohResponse r = parse(first + "HTTP/1.1 200 OK\r\n");
  ASSERT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.consumed, first.size());
}

TEST(DohResponse, Chunked) {
  const std::string text = ok_head("Transfer-Encoding: chunked\r\n") + "5;ext=1\r\n" +
                           kAnswer.substr(0, 5) + "\r\n7\r\n" + kAnswer.substr(5) +
                           "\r\n0\r\nX-Trailer: y\r\n\r\n";
  const DohResponse r = parse(text);
  ASSERT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.message, bytes(kAnswer));
  EXPECT_EQ(r.consumed, text.size());
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_EQ(parse(text.substr(0, cut)).state, State::Incomplete) << cut;
  }
}

TEST(DohResponse, ChunkedMalformed) {
  EXPECT_EQ(parse(ok_head("Transfer-Encoding: chunked\r\n") + "zz\r\n").state, State::Invalid);
  EXPECT_EQ(parse(ok_head("Transfer-Encoding: chunked\r\n") + "c\r\n" + kAnswer + "XX").state,
            State::Invalid);
  EXPECT_EQ(parse(ok_head("Transfer-Encoding: chunked\r\n") + "fffffffff\r\n").state,
            State::Invalid);
  EXPECT_EQ(parse(ok_head("Transfer-Encoding: gzip\r\n") + kAnswer).state, State::Invalid);
  EXPECT_EQ(parse(ok_head("Transfer-Encoding: chunked\r\nContent-Length: 12\r\n")).state,
            State::Invalid);
}

TEST(DohResponse, BodyUpToTheClose) {
  const std::string text = ok_head("") + kAnswer;
  EXPECT_EQ(parse(text).state, State::Incomplete);
  const DohResponse r = parse(text, true);
  ASSERT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.message, bytes(kAnswer));
  EXPECT_FALSE(r.keep_alive);
}

TEST(DohResponse, ConnectionHeaders) {
  EXPECT_FALSE(parse(ok_head("Connection: close\r\nContent-Length: 12\r\n") + kAnswer).keep_alive);
  const std::string http10 =
      "HTTP/1.0 200 OK\r\nContent-Type: application/dns-message\r\nContent-Length: 12\r\n";
  EXPECT_FALSE(parse(http10 + "\r\n" + kAnswer).keep_alive);
  EXPECT_TRUE(parse(http10 + "Connection: Keep-Alive\r\n\r\n" + kAnswer).keep_alive);
}

TEST(DohResponse, InterimResponsesAreSkipped) {
  const DohResponse r =
      parse("HTTP/1.1 100 Continue\r\n\r\n" + ok_head("Content-Length: 12\r\n") + kAnswer);
  ASSERT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.message, bytes(kAnswer));
}

TEST(DohResponse, StatusOtherThan200IsAnError) {
  const DohResponse r = parse(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 3\r\n\r\nno!");
  ASSERT_EQ(r.state, State::Invalid);
  EXPECT_EQ(r.error, "HTTP 403 Forbidden");
  EXPECT_EQ(parse("HTTP/1.1 101 Switching\r\n\r\n").state, State::Invalid);
}

TEST(DohResponse, ContentTypeMustBeDnsMessage) {
  const DohResponse wrong = parse(
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n" + kAnswer);
  ASSERT_EQ(wrong.state, State::Invalid);
  EXPECT_NE(wrong.error.find("text/html"), std::string::npos) << wrong.error;
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" + kAnswer).state,
            State::Invalid);
  const DohResponse params = parse(
      "HTTP/1.1 200 OK\r\ncontent-type:  Application/DNS-Message ; q=1\r\ncontent-length: 12"
      "\r\n\r\n" + kAnswer);
  EXPECT_EQ(params.state, State::Complete) << params.error;
}

TEST(DohResponse, LengthChecks) {
  EXPECT_EQ(parse(ok_head("Content-Length: 11\r\n") + kAnswer.substr(0, 11)).state,
            State::Invalid);  // shorter than a DNS header
  EXPECT_EQ(parse(ok_head("Content-Length: 65536\r\n")).state, State::Invalid);
  EXPECT_EQ(parse(ok_head("Content-Length: 12\r\nContent-Length: 13\r\n")).state,
            State::Invalid);
  EXPECT_EQ(parse(ok_head("Content-Length: +12\r\n")).state, State::Invalid);
  EXPECT_EQ(parse(ok_head("Content-Length: 12\r\nContent-Length: 12\r\n") + kAnswer).state,
            State::Complete);
}

TEST(DohResponse, MalformedHeads) {
  for (const std::string head :
       {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "HTTP/1.1 200 OK\r\n: empty\r\n\r\n"}) {
    EXPECT_EQ(parse(head).state, State::Invalid) << head;
  }
  EXPECT_EQ(parse(std::string(20000, 'x')).state, State::Invalid);
}

TEST(DohResponse, ErrorTextIsPrintable) {
  const DohResponse r = parse("HTTP/1.1 500 \x1b[31mred\r\n\r\n");
  ASSERT_EQ(r.state, State::Invalid);
  EXPECT_EQ(r.error.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace awf::dns
