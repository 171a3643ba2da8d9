#pragma once
// Reading one HTTP/1.x request head (RFC 9112: request line, header fields, blank line) out of
// the bytes received so far, and the short answer to a request the server refuses. A pure function over bytes: no sockets, no Asio, so a unit test or
// a fuzz target can call it on anything.
#include <cstddef>
#include <string>
#include <string_view>

namespace http {

inline constexpr std::size_t max_head_bytes = 8 * 1024;  // a longer head gets 431

// What the server needs to know about one request.
struct request_head {
  std::string method;              // "GET", "POST", "HEAD", ...
  std::string target;              // "/", "/index.html?x=1", ...
  int minor_version = 1;           // 1 for HTTP/1.1, 0 for HTTP/1.0
  std::size_t content_length = 0;  // body bytes that follow the head (Content-Length)
  bool keep_alive = true;          // false: close after the answer (HTTP/1.0, Connection: close)
};

enum class head_status {
  need_more,  // no complete head yet: read more bytes, then call again with all of them
  complete,   // `head` and `head_length` are set
  bad,        // malformed: answer 400 and close; `problem` says what was wrong
  too_large,  // the head is longer than max_head_bytes: answer 431 and close
};

struct head_result {
  head_status status = head_status::need_more;
  request_head head;            // when complete
  std::size_t head_length = 0;  // when complete: bytes up to and including the blank line
  std::string_view problem;     // when bad: a short reason, for the log
};

// Looks for one request head at the start of `received` (the bytes read so far).
head_result parse_request_head(std::string_view received);

// The whole answer to a request the server refuses, e.g. error_response("400 Bad Request"):
// the status, a plain-text body that repeats it, and Connection: close.
std::string error_response(std::string_view status);

}  // namespace http
