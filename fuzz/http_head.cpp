// Fuzz target: lesson 01's request-head parser, http::parse_request_head, on any bytes.
// libFuzzer hands us a buffer of exactly `size` bytes on the heap, so AddressSanitizer stops
// the run on the first read past its end. Beyond not crashing, the answer must make sense:
#include "http_head.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

bool same_head(const http::request_head& a, const http::request_head& b) {
  return a.method == b.method && a.target == b.target && a.minor_version == b.minor_version &&
         a.content_length == b.content_length && a.keep_alive == b.keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view received{reinterpret_cast<const char*>(data), size};
  const auto result = http::parse_request_head(received);
  switch (result.status) {
    case http::head_status::complete: {
      // The head ends inside what was received, after a line end, within the size limit.
      require(result.head_length > 0 && result.head_length <= size, "head_length within input");
      require(received[result.head_length - 1] == '\n', "a head ends with a line end");
      require(result.head_length <= http::max_head_bytes, "a complete head is at most 8 KiB");
      require(!result.head.method.empty() && !result.head.target.empty(), "method and target");
      require(result.head.minor_version >= 0 && result.head.minor_version <= 9, "HTTP/1.x");
      // The head alone parses the same way: nothing after it (a body, the next request) mattered.
      const auto alone = http::parse_request_head(received.substr(0, result.head_length));
      require(alone.status == http::head_status::complete &&
                  alone.head_length == result.head_length && same_head(alone.head, result.head),
              "the head alone gives the same answer");
      break;
    }
    case http::head_status::need_more:
      // Waiting for more is only allowed while under the limit.
      require(size < http::max_head_bytes, "need_more only under 8 KiB");
      break;
    case http::head_status::bad:
      require(!result.problem.empty(), "a bad head says why");
      break;
    case http::head_status::too_large:
      require(size >= http::max_head_bytes, "too_large only past 8 KiB");
      break;
  }
  // Bytes arrive in pieces: a verdict of bad or complete on a prefix must not change when more
  // bytes come (the server answers as soon as it knows).
  if (size > 1 && result.status == http::head_status::need_more) {
    const auto shorter = http::parse_request_head(received.substr(0, size / 2));
    require(shorter.status == http::head_status::need_more, "a prefix of need_more needs more");
  }
  return 0;
}
