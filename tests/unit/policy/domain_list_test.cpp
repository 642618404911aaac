#include "policy/domain_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace awf::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SplitDomainList, TrimsEachEntry) {
  EXPECT_THAT(split_domain_list("a.com, b.com,c.com"), ElementsAre("a.com", "b.com", "c.com"));
  EXPECT_THAT(split_domain_list(" \ta.com \t"), ElementsAre("a.com"));
  EXPECT_THAT(split_domain_list("https://a.com/ , *.b.com"),
              ElementsAre("https://a.com/", "*.b.com"));
}

TEST(SplitDomainList, KeepsEmptyEntries) {
  EXPECT_THAT(split_domain_list("a,,b"), ElementsAre("a", "", "b"));
  EXPECT_THAT(split_domain_list("a, ,b"), ElementsAre("a", "", "b"));
  EXPECT_THAT(split_domain_list("a,"), ElementsAre("a", ""));
  EXPECT_THAT(split_domain_list(",a"), ElementsAre("", "a"));
  EXPECT_THAT(split_domain_list(""), ElementsAre(""));
}

TEST(SplitDomainList, DoesNotTrimInnerSpace) {
  EXPECT_THAT(split_domain_list(" git hub.com "), ElementsAre("git hub.com"));
}

TEST(ParseDomainFile, LinesCommentsCommasBlankLines) {
  const std::string content =
      "# allowed hosts\n"
      "\n"
      "github.com\n"
      "api.example.com, b.example.com   # trailing comment\n"
      "   \n"
      "\t# indented comment\n"
      "  c.example.com,d.example.com\n"
      "*.cdn.example.com";  // no final newline
  EXPECT_THAT(parse_domain_file(content),
              ElementsAre("github.com", "api.example.com", "b.example.com", "c.example.com",
                          "d.example.com", "*.cdn.example.com"));
}

TEST(ParseDomainFile, CrLfLineEndings) {
  EXPECT_THAT(parse_domain_file("a.com\r\n# c\r\n\r\nb.com, c.com\r\n"),
              ElementsAre("a.com", "b.com", "c.com"));
}

TEST(ParseDomainFile, EmptyAndCommentOnly) {
  EXPECT_THAT(parse_domain_file(""), IsEmpty());
  EXPECT_THAT(parse_domain_file("\n\n  \n"), IsEmpty());
  EXPECT_THAT(parse_domain_file("# only a comment\n#another"), IsEmpty());
}

TEST(ParseDomainFile, EmptyEntriesBetweenCommasAreKept) {
  EXPECT_THAT(parse_domain_file("a.com,,b.com\nc.com,\n"),
              ElementsAre("a.com", "", "b.com", "c.com", ""));
}

TEST(ParseDomainFile, HashInsideEntryStartsComment) {
  EXPECT_THAT(parse_domain_file("a.com#b.com\n"), ElementsAre("a.com"));
}

TEST(NormalizeHost, CaseAndTrailingDot) {
  EXPECT_EQ(normalize_host("GitHub.COM"), "github.com");
  EXPECT_EQ(normalize_host("github.com."), "github.com");
  EXPECT_EQ(normalize_host("github.com.."), "");
  EXPECT_EQ(normalize_host("_dmarc.X.com"), "_dmarc.x.com");
  EXPECT_EQ(normalize_host("-a-.b--c.com"), "-a-.b--c.com");
  EXPECT_EQ(normalize_host("localhost"), "localhost");
}

TEST(NormalizeHost, Idn) {
  EXPECT_EQ(normalize_host("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(normalize_host("BÜCHER.Example."), "xn--bcher-kva.example");
  EXPECT_EQ(normalize_host("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
  EXPECT_EQ(normalize_host("faß.de"), "xn--fa-hia.de");  // non-transitional
  EXPECT_EQ(normalize_host("-x.bücher.example"), "-x.xn--bcher-kva.example");
  EXPECT_EQ(normalize_host("\xff.example"), "");  // invalid UTF-8
  EXPECT_EQ(normalize_host("a\xe3\x80\x82"
                           "b.example"),
            "");  // ideographic full stop
  EXPECT_EQ(normalize_host("a\xe3\x80\x80"
                           "b.example"),
            "");  // ideographic space
}

TEST(NormalizeHost, Invalid) {
  EXPECT_EQ(normalize_host(""), "");
  EXPECT_EQ(normalize_host("."), "");
  EXPECT_EQ(normalize_host(".a.com"), "");
  EXPECT_EQ(normalize_host("a..com"), "");
  EXPECT_EQ(normalize_host("a b.com"), "");
  EXPECT_EQ(normalize_host("a*.com"), "");
  EXPECT_EQ(normalize_host("a/b.com"), "");
  EXPECT_EQ(normalize_host("a.com:80"), "");
  EXPECT_EQ(normalize_host(std::string("a.com\0", 6)), "");
  EXPECT_EQ(normalize_host(std::string(64, 'a') + ".com"), "");
  EXPECT_EQ(normalize_host(std::string(63, 'a') + ".com"), std::string(63, 'a') + ".com");
  std::string name;
  while (name.size() < 254) name += "a.";
  name.pop_back();  // 253
  EXPECT_EQ(normalize_host(name), name);
  EXPECT_EQ(normalize_host("b" + name), "");
  EXPECT_EQ(normalize_host(std::string(5000, 'a')), "");
}

TEST(NormalizeHost, IpLiterals) {
  EXPECT_EQ(normalize_host("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(normalize_host("192.0.2.1."), "192.0.2.1");
  EXPECT_EQ(normalize_host("[::1]"), "::1");
  EXPECT_EQ(normalize_host("0:0::1"), "::1");
  EXPECT_EQ(normalize_host("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(normalize_host("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
  EXPECT_EQ(normalize_host("127.1"), "");
  EXPECT_EQ(normalize_host("0x7f.0.0.1"), "");
  EXPECT_EQ(normalize_host("0177.0.0.1"), "");
  EXPECT_EQ(normalize_host("2130706433"), "");
  EXPECT_EQ(normalize_host("[192.0.2.1]"), "");
  EXPECT_EQ(normalize_host("[::1]:80"), "");
}

}  // namespace
}  // namespace awf::policy
