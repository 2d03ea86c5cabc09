// QmpMessageReader: cuts QEMU's QMP byte stream into JSON objects.
//
// QMP sends one JSON object per message, each followed by CRLF, but a read may end anywhere:
// inside an object, or after several. The reader finds where each object ends (its closing
// brace, outside strings) and only then hands its whole text to json-c's tokener at once:
// json-c, fed piece by piece, reads past an object's end and parses numbers differently at a
// piece boundary, so the messages handed out would depend on where reads ended.
// The stream is untrusted: a message longer than max_message_bytes, a NUL byte, invalid JSON
// or UTF-8, nesting deeper than kMaxJsonDepth, or a message that is not an object is refused
// with invalid_input. After a refusal the stream cannot be framed again, so the reader stays
// failed and every later feed() returns the same error.
#pragma once

#include <json-c/json.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "qmp/json.h"
#include "util/result.h"

namespace vfhook {

class QmpMessageReader {
 public:
  static constexpr size_t kDefaultMaxMessageBytes = size_t{1} << 20;  // 1 MiB
  // query-pci nests 3 levels per PCI bridge; 64 leaves room for a deep but sane tree.
  static constexpr int kMaxJsonDepth = 64;

  explicit QmpMessageReader(size_t max_message_bytes = kDefaultMaxMessageBytes);

  // Parses `bytes`, appending every object it completes to `messages` in stream order. On a
  // refusal the objects completed before the bad byte are still appended.
  Status feed(std::string_view bytes, std::deque<JsonPtr>& messages);

  // Whether a message has started and not yet completed (bytes other than blanks).
  [[nodiscard]] bool inside_message() const { return !message_.empty(); }

 private:
  struct TokenerFree {
    void operator()(json_tokener* tokener) const { json_tokener_free(tokener); }
  };

  Status refuse(std::string why);
  // Parses the complete message_ and hands it out.
  Status parse_message(std::deque<JsonPtr>& messages);

  std::unique_ptr<json_tokener, TokenerFree> tokener_;
  size_t max_message_bytes_;
  std::string message_;  // the current message so far, from its '{'
  int depth_ = 0;        // open objects and arrays in message_
  bool in_string_ = false;
  bool escaped_ = false;  // in a string, after a backslash
  std::optional<Error> failure_;
};

}  // namespace vfhook
