#include "testing/fake_host_files.h"

#include <cerrno>

namespace vfhook::testing {
namespace {

Error missing(const std::string& what, const std::string& path) {
  Error error = errno_error(ENOENT, what + " " + path);
  error.kind = ErrorKind::not_found;
  return error;
}

}  // namespace

void FakeHostFiles::add_file(const std::string& path, std::string content, uid_t uid, mode_t mode,
                             int64_t mtime) {
  entries_[path] = Entry{FileInfo{FileInfo::Type::regular, uid, mode, mtime}, std::move(content)};
}

void FakeHostFiles::add_directory(const std::string& path, uid_t uid, mode_t mode) {
  entries_[path] = Entry{FileInfo{FileInfo::Type::directory, uid, mode, 0}, {}};
}

void FakeHostFiles::add_symlink(const std::string& path, std::string target) {
  entries_[path] = Entry{FileInfo{FileInfo::Type::symlink, 0, 0777, 0}, std::move(target)};
}

void FakeHostFiles::remove(const std::string& path) {
  entries_.erase(path);
}

FileInfo* FakeHostFiles::info(const std::string& path) {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second.info;
}

const FakeHostFiles::Entry* FakeHostFiles::resolve(const std::string& path) const {
  std::string current = path;
  for (int hops = 0; hops < 8; ++hops) {  // like the kernel, give up on a long chain
    auto it = entries_.find(current);
    if (it == entries_.end()) return nullptr;
    if (it->second.info.type != FileInfo::Type::symlink) return &it->second;
    const std::string& target = it->second.content;
    current = !target.empty() && target[0] == '/'
                  ? target
                  : current.substr(0, current.rfind('/') + 1) + target;
  }
  return nullptr;
}

Result<FileInfo> FakeHostFiles::lstat(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return fail(missing("lstat", path));
  return it->second.info;
}

Result<FileInfo> FakeHostFiles::stat(const std::string& path) {
  const Entry* entry = resolve(path);
  if (!entry) return fail(missing("stat", path));
  return entry->info;
}

Result<std::string> FakeHostFiles::read(const std::string& path, size_t max_bytes) {
  reads_.push_back(path);
  auto it = entries_.find(path);
  if (it == entries_.end()) return fail(missing("open", path));
  const Entry& entry = it->second;
  if (entry.info.type == FileInfo::Type::symlink) return fail(errno_error(ELOOP, "open " + path));
  if (entry.info.type != FileInfo::Type::regular)
    return fail(ErrorKind::invalid_input, path + " is not a regular file");
  if (entry.content.size() > max_bytes)
    return fail(ErrorKind::invalid_input,
                path + " is larger than " + std::to_string(max_bytes) + " bytes");
  return entry.content;
}

bool FakeHostFiles::exists(const std::string& path) {
  return resolve(path) != nullptr;
}

}  // namespace vfhook::testing
