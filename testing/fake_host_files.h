// FakeHostFiles: an in-memory HostFiles (cli/host_files.h) for tests of `vfctl doctor`. Files,
// directories and symlinks live in a map by absolute path; nothing touches the real disk. It
// behaves like RealHostFiles where the checks depend on it: lstat shows a symlink, stat follows
// it (absolute targets, or relative to the link's directory), read refuses a symlink (ELOOP),
// a non-regular file and content above the cap. Every read() is recorded, refused ones too.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/host_files.h"

namespace vfhook::testing {

class FakeHostFiles : public HostFiles {
 public:
  // A regular file; by default owned by root, mode 0644, mtime 0. Replaces what was there.
  void add_file(const std::string& path, std::string content, uid_t uid = 0, mode_t mode = 0644,
                int64_t mtime = 0);
  void add_directory(const std::string& path, uid_t uid = 0, mode_t mode = 0755);
  void add_symlink(const std::string& path, std::string target);
  void remove(const std::string& path);
  // The stored entry, for tests to change owner, mode or mtime; nullptr when there is none.
  FileInfo* info(const std::string& path);

  // The paths read() was asked for, in order.
  [[nodiscard]] const std::vector<std::string>& reads() const { return reads_; }

  Result<FileInfo> lstat(const std::string& path) override;
  Result<FileInfo> stat(const std::string& path) override;
  Result<std::string> read(const std::string& path, size_t max_bytes) override;
  bool exists(const std::string& path) override;

 private:
  struct Entry {
    FileInfo info;
    std::string content;  // a regular file's bytes, or a symlink's target
  };
  // The entry `path` resolves to after following symlinks; nullptr when missing or looping.
  const Entry* resolve(const std::string& path) const;

  std::map<std::string, Entry> entries_;
  std::vector<std::string> reads_;
};

}  // namespace vfhook::testing
