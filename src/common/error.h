// Errors raised by awf's own setup steps: the message says what failed and why (with errno).
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace awf {

class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "what: strerror(errno)", capturing errno at the call.
inline SetupError errno_error(const std::string& what) {
  return SetupError(what + ": " + std::strerror(errno));
}

}  // namespace awf
