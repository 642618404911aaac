#include "audit/log_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace awf::audit {
namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Records appended while flush() writes are neither lost nor torn: flush() trades the
// buffers under the lock and writes outside it.
TEST(LogWriter, RecordsWrittenDuringFlushesAreAllKept) {
  char dir_template[] = "/tmp/awf-log-writer-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  constexpr int kThreads = 3;
  constexpr int kPerThread = 5000;
  {
    LogWriter log(dir + "/logs");
    std::atomic<int> writing{kThreads};
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&log, &writing, t] {
        for (int i = 0; i < kPerThread; ++i) {
          AuditRecord audit;
          audit.kind = "http";
          audit.name = "t" + std::to_string(t) + "-" + std::to_string(i) + ".example";
          log.write_audit(audit);
          AccessRecord access;
          access.host = audit.name;
          log.write_access(access);
        }
        writing.fetch_sub(1);
      });
    }
    while (writing.load() > 0) log.flush();
    for (auto& writer : writers) writer.join();
    log.flush();
    log.flush();  // nothing left: writes nothing twice
  }
  const auto audit_lines = lines_of(dir + "/logs/audit.jsonl");
  const auto access_lines = lines_of(dir + "/logs/access.log");
  ASSERT_EQ(audit_lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  ASSERT_EQ(access_lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::set<std::string> names;
  for (const std::string& line : audit_lines) {
    const auto record = parse_json_line(line);
    ASSERT_TRUE(record) << line;
    names.insert(record->name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const std::string& line : access_lines) {
    EXPECT_NE(line.find(".example "), std::string::npos) << line;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace awf::audit

namespace awf::audit {
namespace {

// A full disk, simulated with the file size limit (writes past it fail with EFBIG): recording()
// turns false, the records wait and are written, whole and once, when writing works again.
TEST(LogWriter, UnwritableLogsStopRecordingUntilEverythingIsWritten) {
  char dir_template[] = "/tmp/awf-log-writer-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  {
    LogWriter log(dir + "/logs");
    constexpr int kRecords = 40;
    const auto write_records = [&log](int from, int to) {
      for (int i = from; i < to; ++i) {
        AuditRecord audit;
        audit.kind = "dns";
        audit.name = "n" + std::to_string(i) + ".test";
        audit.decision = "allow";
        log.write_audit(audit);
      }
    };
    write_records(0, kRecords / 2);
    rlimit small = saved;
    small.rlim_cur = 1000;  // about four records
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    log.flush();
    EXPECT_FALSE(log.recording());
    EXPECT_GT(log.unwritten_records(), 0u);
    write_records(kRecords / 2, kRecords);
    log.flush();
    EXPECT_FALSE(log.recording());
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
    log.flush();
    EXPECT_TRUE(log.recording());
    EXPECT_EQ(log.unwritten_records(), 0u);
    EXPECT_EQ(log.dropped_records(), 0u);
    const auto lines = lines_of(dir + "/logs/audit.jsonl");
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords));
    for (int i = 0; i < kRecords; ++i) {
      const auto record = parse_json_line(lines[i]);
      ASSERT_TRUE(record) << lines[i];
      EXPECT_EQ(record->name, "n" + std::to_string(i) + ".test");
    }
    log.note_refused_unrecorded();
    EXPECT_EQ(log.refused_unrecorded(), 1u);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace awf::audit
