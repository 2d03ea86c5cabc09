// TextFiles: the files vfctl writes for other programs (DHCP reservations for dnsmasq, Kea or a
// libvirt network), behind an interface so that commands are tested on a fake.
//
// A reader (a DHCP server re-reading on SIGHUP, say) must never see a half-written file, and an
// unchanged file must not be rewritten (its mtime is what such a server or a config-management
// run watches): update_file() compares first and replace() swaps the whole file in one rename.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace vfhook {

inline constexpr size_t kMaxTextFileBytes = 16 * 1024 * 1024;

class TextFiles {
 public:
  virtual ~TextFiles() = default;
  // The content of the regular file at `path`; nullopt when nothing is there. Refuses a file
  // larger than `max_bytes` and anything but a regular file (a symlink as the last component
  // too), so a FIFO cannot hang vfctl.
  virtual Result<std::optional<std::string>> read(const std::string& path, size_t max_bytes) = 0;
  // Makes `content` the file's content at once: a new file beside it, written, synced, and
  // renamed over `path`. The new file keeps the old one's permission bits (0644 for a new one).
  // On failure `path` is as it was and the temporary file is gone.
  virtual Status replace(const std::string& path, std::string_view content) = 0;
};

class RealTextFiles final : public TextFiles {
 public:
  Result<std::optional<std::string>> read(const std::string& path, size_t max_bytes) override;
  Status replace(const std::string& path, std::string_view content) override;
};

// Replaces the file with `content` unless it already holds exactly that. true: it was written.
Result<bool> update_file(TextFiles& files, const std::string& path, std::string_view content);

}  // namespace vfhook
