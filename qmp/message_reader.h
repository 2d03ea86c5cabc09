// QmpMessageReader: cuts QEMU's QMP byte stream into JSON objects.
//
// QMP sends one JSON object per message, each followed by CRLF, but a read may end anywhere:
// inside an object, or after several. The reader feeds every byte to json-c's streaming
// tokener and hands out each object as it completes, whatever the read boundaries were.
// The stream is untrusted: a message longer than max_message_bytes, a NUL byte, invalid JSON
// or UTF-8, nesting deeper than kMaxJsonDepth, or a top-level value that is not an object is
// refused with invalid_input. After a refusal the stream cannot be framed again, so the
// reader stays failed and every later feed() returns the same error.
#pragma once

#include <json-c/json.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
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

  // Whether a message has started and not yet completed (bytes other than whitespace).
  [[nodiscard]] bool inside_message() const { return message_bytes_ > 0; }

 private:
  struct TokenerFree {
    void operator()(json_tokener* tokener) const { json_tokener_free(tokener); }
  };

  Status refuse(std::string why);

  std::unique_ptr<json_tokener, TokenerFree> tokener_;
  size_t max_message_bytes_;
  size_t message_bytes_ = 0;  // bytes of the current message fed so far (leading blanks not)
  std::optional<Error> failure_;
};

}  // namespace vfhook
