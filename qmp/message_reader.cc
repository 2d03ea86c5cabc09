#include "qmp/message_reader.h"

#include <algorithm>
#include <climits>
#include <new>

namespace vfhook {

QmpMessageReader::QmpMessageReader(size_t max_message_bytes)
    : tokener_(json_tokener_new_ex(kMaxJsonDepth)), max_message_bytes_(max_message_bytes) {
  if (!tokener_) throw std::bad_alloc();
  // Not JSON_TOKENER_STRICT: strict mode refuses the CRLF (or the next object) that follows
  // each message. Types are checked field by field anyway.
  json_tokener_set_flags(tokener_.get(), JSON_TOKENER_VALIDATE_UTF8);
}

Status QmpMessageReader::refuse(std::string why) {
  failure_ = Error{ErrorKind::invalid_input, "QEMU's QMP stream is not valid QMP: " + why, 0};
  return fail(*failure_);
}

Status QmpMessageReader::feed(std::string_view bytes, std::deque<JsonPtr>& messages) {
  if (failure_) return fail(*failure_);
  while (!bytes.empty()) {
    // Blanks between messages (the CRLF after each) do not count towards a message's size.
    if (message_bytes_ == 0) {
      size_t blanks = bytes.find_first_not_of(" \t\r\n");
      if (blanks == std::string_view::npos) return ok();
      bytes.remove_prefix(blanks);
    }
    // Never hand json-c more than the rest of this message may be: an endless string or
    // array is refused at the cap instead of growing the tokener's buffers without bound.
    size_t room = max_message_bytes_ - message_bytes_;
    size_t chunk = std::min({bytes.size(), room, size_t{INT_MAX}});
    // json-c stops at a NUL as if the input ended there, and no JSON text holds a raw one:
    // feed up to it (a message may complete before it), then refuse it.
    size_t nul = bytes.substr(0, chunk).find('\0');
    if (nul == 0) return refuse("a NUL byte in a message");
    if (nul != std::string_view::npos) chunk = nul;
    JsonPtr object(json_tokener_parse_ex(tokener_.get(), bytes.data(), static_cast<int>(chunk)));
    json_tokener_error status = json_tokener_get_error(tokener_.get());
    if (object || status == json_tokener_success) {
      size_t used = json_tokener_get_parse_end(tokener_.get());
      json_tokener_reset(tokener_.get());
      message_bytes_ = 0;
      bytes.remove_prefix(std::min(used, bytes.size()));
      if (!json_object_is_type(object.get(), json_type_object)) {
        return refuse(std::string("a message is ") +
                      std::string(json_type_phrase(json_object_get_type(object.get()))) +
                      ", not a JSON object");
      }
      messages.push_back(std::move(object));
      continue;
    }
    if (status != json_tokener_continue) {
      return refuse(std::string("invalid JSON (") + json_tokener_error_desc(status) + ")");
    }
    message_bytes_ += chunk;
    bytes.remove_prefix(chunk);
    if (message_bytes_ >= max_message_bytes_) {
      return refuse("a message is longer than " + std::to_string(max_message_bytes_) + " bytes");
    }
  }
  return ok();
}

}  // namespace vfhook
