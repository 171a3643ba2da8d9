// Fuzz target: lesson 04's JSON codec (chat_message.hpp), which reads whatever arrives on the
// Redis channel, from any server or anyone with access to Redis. decode never throws, and what it
// accepts survives a round trip through encode.
#include "chat_message.hpp"

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

// True when `text` is well-formed UTF-8 (what encode keeps as it is).
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xe  ? 3
                         : (byte >> 3) == 0x1e ? 4
                                               : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t code = length == 1 ? byte : byte & (0xff >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = code << 6 | (next & 0x3f);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};

  // Whatever came off the channel: decode it; what it accepts encodes and decodes the same.
  if (const auto chat = decode(bytes)) {
    const auto again = decode(encode(*chat));
    require(again.has_value(), "encode(decode(x)) decodes");
    require(again->message == chat->message && again->user_id == chat->user_id,
            "decode(encode(m)) == m");
  }

  // The bytes as a line a client said: encode always gives JSON that decodes, and keeps the
  // line exactly when it is UTF-8 (other bytes become U+FFFD, as Node.js makes them).
  const auto split = bytes.find('\0');
  const chat_message said{
      std::string{bytes.substr(0, split)},
      split == std::string_view::npos ? "user" : std::string{bytes.substr(split + 1)}};
  const auto heard = decode(encode(said));
  require(heard.has_value(), "encode gives JSON that decode accepts");
  if (is_utf8(said.message))
    require(heard->message == said.message, "UTF-8 lines stay as they are");
  if (is_utf8(said.user_id)) require(heard->user_id == said.user_id, "UTF-8 ids stay as they are");
  return 0;
}
