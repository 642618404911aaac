#include "cli/diagnostics.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace awf::cli {
namespace {

TEST(LastLines, KeepsTheLastLinesWithTheirNewlines) {
  EXPECT_EQ(last_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(last_lines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(last_lines("", 3), "");
  EXPECT_EQ(last_lines("\n\n\n", 1), "\n");
}

TEST(StderrTail, KeepsWhatTheWriterSentUntilItCloses) {
  StderrTail tail;
  const int writer = dup(tail.write_end());
  ASSERT_GE(writer, 0);
  tail.start_forwarding();
  std::string text;
  for (int i = 0; i < 300; ++i) text += "line " + std::to_string(i) + "\n";
  ASSERT_EQ(write(writer, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(writer);
  const std::string kept = tail.finish();
  EXPECT_EQ(kept.substr(0, 9), "line 100\n");
  EXPECT_EQ(kept.substr(kept.size() - 9), "line 299\n");
}

}  // namespace
}  // namespace awf::cli
