#include "proxy/usage_log.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/owner.h"

namespace awf::proxy {

UsageLog::UsageLog(const std::string& directory, mode_t file_mode, PricingConfig pricing)
    : path_(directory + "/token-usage.jsonl"), pricing_(std::move(pricing)) {
  // A private log directory (0600 files) keeps its subdirectory private too.
  make_output_dirs(directory, file_mode == 0600 ? 0700 : 0755);
  fd_ = open_output_file(path_, O_WRONLY | O_APPEND, file_mode);
}

void UsageLog::write(UsageRecord record) {
  std::lock_guard lock(mutex_);
  record.price = choose_price(pricing_, record.provider, record.model);
  if (record.price) {
    const double credits = ai_credits(record.usage, record.provider, record.price->price);
    credits_total_ += credits;
    record.credits = round_credits(credits);
    record.credits_total = round_credits(credits_total_);
  }
  const std::string line = format_usage_record(record);
  // O_APPEND and one write: the line lands whole at the end (a record is a few hundred bytes).
  ssize_t written;
  do {
    written = ::write(fd_.get(), line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written == static_cast<ssize_t>(line.size()) || failed_) return;
  failed_ = true;
  std::fprintf(stderr, "awf: cannot write %s: %s; token usage is not recorded\n", path_.c_str(),
               written < 0 ? std::strerror(errno) : "short write");
}

std::string random_request_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no random bytes for a request id");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace awf::proxy
