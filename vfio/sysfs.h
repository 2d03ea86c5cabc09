// Sysfs: file access below a root directory ("/sys" on a host, a temporary tree in tests).
//
// Paths are relative to the root ("bus/pci/devices/0000:01:10.0/driver"). Callers build them
// only from validated parts (PciAddress::to_string(), interface names checked by
// is_safe_name()); every method also refuses an absolute path or a ".." component, so hostile
// input can never reach outside the root. Contents read from sysfs are untrusted too: reads
// are capped at 4 KiB and callers parse them strictly.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "model/names.h"
#include "util/result.h"

namespace vfhook {

class Sysfs {
 public:
  virtual ~Sysfs() = default;

  // Contents without the trailing newline.
  virtual Result<std::string> read(std::string_view path) = 0;
  // One write() of the value, as the kernel expects for sysfs attributes.
  virtual Status write(std::string_view path, std::string_view value) = 0;
  // The target of a symbolic link, as stored (usually relative, "../../../0000:01:00.0").
  virtual Result<std::string> read_link(std::string_view path) = 0;
  // Entry names of a directory, sorted.
  virtual Result<std::vector<std::string>> list(std::string_view path) = 0;
  virtual bool exists(std::string_view path) = 0;
};

// The real implementation: plain file operations below `root`.
class DirSysfs : public Sysfs {
 public:
  explicit DirSysfs(std::filesystem::path root);

  Result<std::string> read(std::string_view path) override;
  Status write(std::string_view path, std::string_view value) override;
  Result<std::string> read_link(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view path) override;
  bool exists(std::string_view path) override;

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

 protected:
  // root_/path after refusing absolute paths and ".." components. A plain string: building a
  // std::filesystem::path component by component cost more than the system call it names,
  // on every sysfs access of the hook's start path.
  Result<std::string> resolve(std::string_view path) const;

 private:
  std::filesystem::path root_;
  std::string root_prefix_;  // root_ as a string, ending in a slash
};

}  // namespace vfhook
