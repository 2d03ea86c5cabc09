#include "qmp/message_reader.h"

#include <cstdint>
#include <new>

#include <string_view>
#include "util/printable.h"

namespace vfhook {
namespace {

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
      return false;
    }
    i += length;
  }
  return true;
}

// Whether every key and string in `value` is UTF-8. Recursion is bounded by kMaxJsonDepth.
bool strings_are_utf8(json_object* value) {
  switch (json_object_get_type(value)) {
    case json_type_string:
      return is_valid_utf8(std::string_view(
          json_object_get_string(value), static_cast<size_t>(json_object_get_string_len(value))));
    case json_type_array:
      for (size_t i = 0; i < json_object_array_length(value); ++i) {
        if (!strings_are_utf8(json_object_array_get_idx(value, i))) return false;
      }
      return true;
    case json_type_object: {
      json_object_object_foreach(value, key, member) {
        if (!is_valid_utf8(key) || !strings_are_utf8(member)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

}  // namespace

QmpMessageReader::QmpMessageReader(size_t max_message_bytes)
    : tokener_(json_tokener_new_ex(kMaxJsonDepth)), max_message_bytes_(max_message_bytes) {
  if (!tokener_) throw std::bad_alloc();
  // No flags: types are checked field by field, and strings for UTF-8 by strings_are_utf8.
}

Status QmpMessageReader::refuse(std::string why) {
  failure_ = Error{ErrorKind::invalid_input, "QEMU's QMP stream is not valid QMP: " + why, 0};
  return fail(*failure_);
}

Status QmpMessageReader::parse_message(std::deque<JsonPtr>& messages) {
  json_tokener_reset(tokener_.get());
  JsonPtr object(
      json_tokener_parse_ex(tokener_.get(), message_.data(), static_cast<int>(message_.size())));
  json_tokener_error status = json_tokener_get_error(tokener_.get());
  if (!object || status != json_tokener_success ||
      json_tokener_get_parse_end(tokener_.get()) != message_.size()) {
    return refuse(std::string("invalid JSON (") +
                  (status == json_tokener_success || status == json_tokener_continue
                       ? "incomplete object"
                       : json_tokener_error_desc(status)) +
                  ")");
  }
  if (!json_object_is_type(object.get(), json_type_object)) {
    return refuse("a message is not a JSON object");
  }
  if (!strings_are_utf8(object.get())) return refuse("a message holds text that is not UTF-8");
  messages.push_back(std::move(object));
  message_.clear();
  return ok();
}

Status QmpMessageReader::feed(std::string_view bytes, std::deque<JsonPtr>& messages) {
  if (failure_) return fail(*failure_);
  for (char byte : bytes) {
    // json-c would stop at a NUL as if the input ended there; no JSON text holds a raw one.
    if (byte == '\0') return refuse("a NUL byte in a message");
    if (message_.empty()) {
      // Blanks between messages (the CRLF after each) belong to none.
      if (byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n') continue;
      if (byte != '{') {
        return refuse("a message is not a JSON object (it starts with '" +
                      printable(std::string_view(&byte, 1)) + "')");
      }
      depth_ = 0;
      in_string_ = false;
      escaped_ = false;
    }
    if (message_.size() >= max_message_bytes_) {
      return refuse("a message is longer than " + std::to_string(max_message_bytes_) + " bytes");
    }
    message_.push_back(byte);
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (byte == '\\') {
        escaped_ = true;
      } else if (byte == '"') {
        in_string_ = false;
      }
      continue;
    }
    switch (byte) {
      case '"':
        in_string_ = true;
        break;
      case '{':
      case '[':
        if (++depth_ > kMaxJsonDepth) {
          return refuse("a message nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        }
        break;
      case '}':
      case ']':
        if (--depth_ == 0) VF_TRY(parse_message(messages));
        break;
      default:
        break;
    }
  }
  return ok();
}

}  // namespace vfhook
