// Strict validation of an HTTP/1 request head before it is parsed: the shapes that let two
// parsers disagree about where a request ends (request smuggling) or what it names are
// refused outright. Pure logic.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace awf::http {

inline constexpr std::size_t kMaxRequestHead = 64 * 1024;
inline constexpr std::size_t kMaxRequestLine = 8 * 1024;
inline constexpr std::size_t kMaxHeaderCount = 100;

// `head` is everything up to and including the first "\r\n\r\n". Returns nullopt when it is
// acceptable, else a short reason for the 400 answer. Refused: a head larger than
// kMaxRequestHead, a request line longer than kMaxRequestLine, bare CR or LF, NUL or other
// control bytes, a malformed request line (method token, target without spaces or controls,
// HTTP/1.0 or HTTP/1.1), obsolete line folding, header names that are not tokens or are
// followed by whitespace before the colon, more than kMaxHeaderCount headers, more than one
// Host, more than one Content-Length or one that is not decimal digits, Transfer-Encoding
// other than exactly "chunked", and Transfer-Encoding together with Content-Length.
std::optional<std::string> check_request_head(std::string_view head);

// Where the request head in `bytes` ends: just past the first "\r\n\r\n", or, when a bare
// CR or LF comes first (lines ending in LF only, say), just past that byte: such a head can
// only be refused, and check_request_head refuses it, so it is refused at once instead of
// waiting for a "\r\n\r\n" that may never come. 0 when neither is there yet.
std::size_t find_head_end(std::string_view bytes);

}  // namespace awf::http
