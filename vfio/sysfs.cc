#include "vfio/sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/fd.h"

namespace vfhook {
namespace {

// sysfs attributes are at most a page; anything longer is not an attribute we understand.
constexpr size_t kMaxRead = 4096;

std::string shown(std::string_view path) {
  return std::string(path.substr(0, 256));
}

}  // namespace

DirSysfs::DirSysfs(std::filesystem::path root)
    : root_(std::move(root)), root_prefix_(root_.string()) {
  if (!root_prefix_.empty() && root_prefix_.back() != '/') root_prefix_ += '/';
}

Result<std::string> DirSysfs::resolve(std::string_view path) const {
  if (path.empty() || path.front() == '/') {
    return fail(ErrorKind::invalid_input,
                "refusing sysfs path '" + shown(path) + "': it must be relative to the root");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return fail(ErrorKind::invalid_input,
                  "refusing sysfs path '" + shown(path) + "': empty, '.' or '..' component");
    }
    start = end + 1;
  }
  std::string out;
  out.reserve(root_prefix_.size() + path.size());
  out.append(root_prefix_).append(path);
  return out;
}

Result<std::string> DirSysfs::read(std::string_view path) {
  VF_ASSIGN(full, resolve(path));
  Fd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(errno_error(errno, "read " + full));
  std::string out;
  char buf[kMaxRead + 1];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "read " + full));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxRead) {
      return fail(ErrorKind::invalid_input,
                  "read " + full + ": longer than 4096 bytes, not a sysfs attribute");
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Status DirSysfs::write(std::string_view path, std::string_view value) {
  VF_ASSIGN(full, resolve(path));
  // No O_CREAT: a sysfs attribute exists or the kernel does not offer it. O_TRUNC is what a
  // shell's `echo x > attr` does too: sysfs ignores it, and a plain file in a fake tree
  // then holds exactly the last value written.
  Fd fd(::open(full.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return fail(errno_error(errno, "write " + full));
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  fd.reset();
  if (n < 0) return fail(errno_error(err, "write '" + shown(value) + "' to " + full));
  if (static_cast<size_t>(n) != value.size()) {
    return fail(ErrorKind::os, "write '" + shown(value) + "' to " + full + ": short write of " +
                                   std::to_string(n) + " bytes");
  }
  return ok();
}

Result<std::string> DirSysfs::read_link(std::string_view path) {
  VF_ASSIGN(full, resolve(path));
  char buf[kMaxRead];
  ssize_t n = ::readlink(full.c_str(), buf, sizeof buf);
  if (n < 0) return fail(errno_error(errno, "readlink " + full));
  if (static_cast<size_t>(n) >= sizeof buf) {
    return fail(ErrorKind::invalid_input, "readlink " + full + ": target too long");
  }
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::vector<std::string>> DirSysfs::list(std::string_view path) {
  VF_ASSIGN(full, resolve(path));
  DIR* dir = ::opendir(full.c_str());
  if (!dir) return fail(errno_error(errno, "list " + full));
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return fail(errno_error(err, "list " + full));
  std::sort(names.begin(), names.end());
  return names;
}

bool DirSysfs::exists(std::string_view path) {
  auto full = resolve(path);
  if (!full) return false;
  struct stat st;
  // lstat: a dangling link (a driver link whose driver vanished) still exists as an entry.
  return ::lstat(full->c_str(), &st) == 0;
}

}  // namespace vfhook
