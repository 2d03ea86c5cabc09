// MemoryTextFiles: TextFiles (cli/text_files.h) held in memory, for tests of the commands that
// write files. Records every replace() and can be told to fail the next one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/text_files.h"

namespace vfhook::testing {

class MemoryTextFiles final : public TextFiles {
 public:
  Result<std::optional<std::string>> read(const std::string& path, size_t max_bytes) override {
    auto it = files.find(path);
    if (it == files.end()) return std::optional<std::string>{};
    if (it->second.size() > max_bytes)
      return fail(ErrorKind::invalid_input, path + " is larger than the cap");
    return std::optional<std::string>(it->second);
  }
  Status replace(const std::string& path, std::string_view content) override {
    if (fail_next_replace) {
      Error error = *fail_next_replace;
      fail_next_replace.reset();
      return fail(error);
    }
    replaced.push_back(path);
    files[path] = std::string(content);
    return ok();
  }

  std::map<std::string, std::string> files;
  std::vector<std::string> replaced;       // the path of every successful replace, in order
  std::optional<Error> fail_next_replace;  // returned (once) by the next replace()
};

}  // namespace vfhook::testing
