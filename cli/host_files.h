// HostFiles: the files outside sysfs that `vfctl doctor` looks at (the installed hook, libvirt's
// pid files, /proc, /lib/modules), behind an interface so that the checks run on a fake host in
// tests. Read-only by design: nothing here can change the host.
//
// Paths are absolute and come from vfctl itself or from validated parts (a pid parsed as a
// number, a kernel release checked for '/'), never raw file content. Contents are untrusted:
// read() is capped and refuses anything but a regular file, and callers parse strictly.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/result.h"

namespace vfhook {

struct FileInfo {
  enum class Type { regular, directory, symlink, other };
  Type type = Type::other;
  uid_t uid = 0;
  mode_t mode = 0;    // permission bits only (07777), without the file type
  int64_t mtime = 0;  // seconds since the epoch
};

class HostFiles {
 public:
  virtual ~HostFiles() = default;

  // The entry itself, not what a symlink points to. A missing file is ErrorKind::not_found.
  virtual Result<FileInfo> lstat(const std::string& path) = 0;
  // What the path resolves to (a symlink is followed). A missing file is ErrorKind::not_found.
  virtual Result<FileInfo> stat(const std::string& path) = 0;
  // The whole content of a regular file of at most `max_bytes` bytes; a larger file is an
  // invalid_input error, a symlink as the last component is refused (ELOOP), a missing file is
  // ErrorKind::not_found.
  virtual Result<std::string> read(const std::string& path, size_t max_bytes) = 0;
  // Whether anything (after following symlinks) is at `path`.
  virtual bool exists(const std::string& path) = 0;
};

// The host's files: lstat/stat, and reads through open(O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
// then fstat on the descriptor, so what is checked is what is read and a FIFO planted in place
// of a pid file cannot hang vfctl.
class RealHostFiles : public HostFiles {
 public:
  Result<FileInfo> lstat(const std::string& path) override;
  Result<FileInfo> stat(const std::string& path) override;
  Result<std::string> read(const std::string& path, size_t max_bytes) override;
  bool exists(const std::string& path) override;
};

}  // namespace vfhook
