#include "http_head.hpp"

#include <algorithm>

namespace http {
namespace {

// Header names and methods are tokens (RFC 9110, 5.6.2).
bool is_token_char(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// A request target holds no spaces or control characters.
bool is_visible(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte != 0x7f;
}

// A header value holds no control characters but the tab.
bool is_field_value_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return c == '\t' || (byte >= 0x20 && byte != 0x7f);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Lines end in CRLF; a bare LF is accepted too (RFC 9112, 2.2), which helps people typing into nc.
std::string_view without_cr(std::string_view line) {
  return !line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line;
}

head_result bad(std::string_view problem) {
  head_result result;
  result.status = head_status::bad;
  result.problem = problem;
  return result;
}

head_result need_more_unless_too_large(std::size_t received_size) {
  head_result result;
  result.status = received_size >= max_head_bytes ? head_status::too_large : head_status::need_more;
  return result;
}

// What is wrong with a request line `METHOD SP TARGET SP HTTP/1.x`, or nothing. A partial line
// (its end has not arrived) is checked as far as it goes, so that garbage, a TLS handshake for
// example, gets its 400 at once instead of waiting for a line end that never comes.
std::string_view request_line_problem(std::string_view line, bool whole) {
  const auto first_space = line.find(' ');
  const auto method = line.substr(0, first_space);
  if (!std::all_of(method.begin(), method.end(), is_token_char)) return "the method is not a token";
  if (first_space == std::string_view::npos) return whole ? "the request line has no target" : "";
  if (method.empty()) return "the request line starts with a space";

  const auto rest = line.substr(first_space + 1);
  const auto second_space = rest.find(' ');
  const auto target = rest.substr(0, second_space);
  if (!std::all_of(target.begin(), target.end(), is_visible)) {
    return "the target holds a control character";
  }
  if (second_space == std::string_view::npos) return whole ? "the request line has no version" : "";
  if (target.empty()) return "the target is empty";

  constexpr std::string_view prefix = "HTTP/1.";
  const auto version = rest.substr(second_space + 1);
  const bool complete_version = version.size() == prefix.size() + 1 &&
                                version.starts_with(prefix) && is_digit(version.back());
  if (whole) return complete_version ? "" : "the version is not HTTP/1.x";
  const bool on_its_way = version.size() <= prefix.size() && prefix.starts_with(version);
  return complete_version || on_its_way ? "" : "the version is not HTTP/1.x";
}

// What the header fields said, beyond what request_head holds.
struct fields_seen {
  bool content_length = false;
  bool connection_close = false;
};

std::string_view read_content_length(std::string_view value, request_head& head,
                                     fields_seen& seen) {
  if (value.empty() || !std::all_of(value.begin(), value.end(), is_digit)) {
    return "Content-Length is not a number";
  }
  if (value.size() > 15) return "Content-Length is too large";
  std::size_t length = 0;
  for (const char digit : value) length = length * 10 + static_cast<std::size_t>(digit - '0');
  if (seen.content_length && length != head.content_length) {
    return "two different Content-Length values";
  }
  head.content_length = length;
  seen.content_length = true;
  return {};
}

// Connection: a comma-separated list of options; we care about "close".
void read_connection(std::string_view value, fields_seen& seen) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (equals_ignoring_case(trim(value.substr(0, comma)), "close")) seen.connection_close = true;
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
  }
}

// Reads one header line `Name: value` into `head`; returns what is wrong with it, or nothing.
std::string_view read_field(std::string_view line, request_head& head, fields_seen& seen) {
  if (line.front() == ' ' || line.front() == '\t') return "a header line is folded (obsolete)";
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return "a header line has no colon";
  const auto name = line.substr(0, colon);
  if (!is_token(name)) return "a header name is not a token (a space before the colon?)";
  const auto value = trim(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), is_field_value_char)) {
    return "a header value holds a control character";
  }
  if (equals_ignoring_case(name, "Content-Length")) return read_content_length(value, head, seen);
  if (equals_ignoring_case(name, "Transfer-Encoding")) {
    return "request bodies with Transfer-Encoding are not supported";
  }
  if (equals_ignoring_case(name, "Connection")) read_connection(value, seen);
  return {};
}

void read_request_line(std::string_view line, request_head& head) {
  const auto first_space = line.find(' ');
  const auto second_space = line.find(' ', first_space + 1);
  head.method = line.substr(0, first_space);
  head.target = line.substr(first_space + 1, second_space - first_space - 1);
  head.minor_version = line.back() - '0';
}

// Skips the empty lines a client may send before a request (RFC 9112, 2.2).
std::size_t skip_empty_lines(std::string_view received) {
  std::size_t start = 0;
  while (true) {
    if (received.substr(start).starts_with("\r\n")) {
      start += 2;
    } else if (received.substr(start).starts_with("\n")) {
      start += 1;
    } else {
      return start;
    }
  }
}

}  // namespace

head_result parse_request_head(std::string_view received) {
  std::size_t line_start = skip_empty_lines(received);
  auto line_end = received.find('\n', line_start);
  if (line_end == std::string_view::npos) {
    const auto partial = without_cr(received.substr(line_start));
    if (const auto problem = request_line_problem(partial, false); !problem.empty()) {
      return bad(problem);
    }
    return need_more_unless_too_large(received.size());
  }
  if (line_end >= max_head_bytes) return need_more_unless_too_large(line_end + 1);

  const auto request_line = without_cr(received.substr(line_start, line_end - line_start));
  if (const auto problem = request_line_problem(request_line, true); !problem.empty()) {
    return bad(problem);
  }
  head_result result;
  read_request_line(request_line, result.head);

  fields_seen seen;
  while (true) {
    line_start = line_end + 1;
    line_end = received.find('\n', line_start);
    if (line_end == std::string_view::npos) return need_more_unless_too_large(received.size());
    if (line_end >= max_head_bytes) return need_more_unless_too_large(line_end + 1);
    const auto line = without_cr(received.substr(line_start, line_end - line_start));
    if (line.empty()) break;  // the blank line: the head is complete
    if (const auto problem = read_field(line, result.head, seen); !problem.empty()) {
      return bad(problem);
    }
  }
  // HTTP/1.1 keeps the connection open unless told otherwise; we close every HTTP/1.0 one.
  result.head.keep_alive = result.head.minor_version >= 1 && !seen.connection_close;
  result.head_length = line_end + 1;
  result.status = head_status::complete;
  return result;
}

std::string error_response(std::string_view status) {
  const std::string body = std::string{status} + "\n";
  return "HTTP/1.1 " + std::string{status} +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace http
