// A secret (an LLM provider key) kept in its own pages: left out of core dumps
// (MADV_DONTDUMP), not inherited by the sandbox's init that awf forks (MADV_DONTFORK), kept out
// of swap when the limit allows (mlock), and zeroed before the pages are returned.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <utility>

namespace awf {

class SecretText {
 public:
  SecretText() = default;
  explicit SecretText(std::string_view text) {
    if (text.empty()) return;
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    capacity_ = (text.size() + page - 1) / page * page;
    void* pages =
        mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
      capacity_ = 0;
      return;
    }
    madvise(pages, capacity_, MADV_DONTDUMP);
    madvise(pages, capacity_, MADV_DONTFORK);
    mlock(pages, capacity_);  // best effort: RLIMIT_MEMLOCK may refuse
    data_ = static_cast<char*>(pages);
    std::memcpy(data_, text.data(), text.size());
    size_ = text.size();
  }
  ~SecretText() { release(); }
  SecretText(SecretText&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  SecretText& operator=(SecretText&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  SecretText(const SecretText&) = delete;
  SecretText& operator=(const SecretText&) = delete;

  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }

 private:
  void release() {
    if (!data_) return;
    explicit_bzero(data_, capacity_);
    munlock(data_, capacity_);
    munmap(data_, capacity_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace awf
