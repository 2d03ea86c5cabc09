#include "cli/host_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/fd.h"

namespace vfhook {
namespace {

FileInfo info_of(const struct stat& st) {
  FileInfo info;
  if (S_ISREG(st.st_mode)) {
    info.type = FileInfo::Type::regular;
  } else if (S_ISDIR(st.st_mode)) {
    info.type = FileInfo::Type::directory;
  } else if (S_ISLNK(st.st_mode)) {
    info.type = FileInfo::Type::symlink;
  }
  info.uid = st.st_uid;
  info.mode = st.st_mode & 07777;
  info.mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
  return info;
}

// errno as an Error, with ENOENT as not_found so that callers can tell "missing" from "broken".
Error file_error(int err, const std::string& what) {
  Error error = errno_error(err, what);
  if (err == ENOENT) error.kind = ErrorKind::not_found;
  return error;
}

}  // namespace

Result<FileInfo> RealHostFiles::lstat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return fail(file_error(errno, "lstat " + path));
  return info_of(st);
}

Result<FileInfo> RealHostFiles::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(file_error(errno, "stat " + path));
  return info_of(st);
}

Result<std::string> RealHostFiles::read(const std::string& path, size_t max_bytes) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return fail(file_error(errno, "open " + path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(file_error(errno, "stat " + path));
  if (!S_ISREG(st.st_mode)) return fail(ErrorKind::invalid_input, path + " is not a regular file");
  // /proc files report size 0: the cap is enforced on what read() returns, one byte past it
  // telling "exactly max_bytes" from "more".
  std::string text;
  char buffer[4096];
  while (text.size() <= max_bytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(file_error(errno, "read " + path));
    }
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
  }
  return fail(ErrorKind::invalid_input,
              path + " is larger than " + std::to_string(max_bytes) + " bytes");
}

bool RealHostFiles::exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace vfhook
