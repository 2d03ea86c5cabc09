#include "cli/text_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "cli/host_files.h"
#include "util/fd.h"

namespace vfhook {

Result<std::optional<std::string>> RealTextFiles::read(const std::string& path, size_t max_bytes) {
  RealHostFiles files;
  auto text = files.read(path, max_bytes);
  if (!text) {
    if (text.error().kind == ErrorKind::not_found) return std::optional<std::string>{};
    return fail(text.error());
  }
  return std::optional<std::string>(std::move(*text));
}

Status RealTextFiles::replace(const std::string& path, std::string_view content) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  mode_t mode = 0644;
  struct stat old {};
  if (::lstat(path.c_str(), &old) == 0) {
    if (!S_ISREG(old.st_mode))
      return fail(ErrorKind::invalid_input,
                  path + " is not a regular file; vfctl replaces only regular files");
    mode = old.st_mode & 07777;
  } else if (errno != ENOENT) {
    return fail(errno_error(errno, "stat " + path));
  }

  // mkstemp needs a writable template: "<path>.vfctl-XXXXXX", in the same directory so that
  // rename() is atomic.
  std::string temp = path + ".vfctl-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const Fd fd(::mkstemp(name.data()));
  if (!fd) return fail(errno_error(errno, "create a temporary file beside " + path));
  temp.assign(name.data());
  auto fail_and_remove = [&](Error error) -> Status {
    ::unlink(temp.c_str());
    return fail(std::move(error));
  };
  if (::fchmod(fd.get(), mode) != 0) return fail_and_remove(errno_error(errno, "chmod " + temp));
  std::string_view rest = content;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_and_remove(errno_error(n < 0 ? errno : EIO, "write " + temp));
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return fail_and_remove(errno_error(errno, "fsync " + temp));
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail_and_remove(errno_error(errno, "rename " + temp + " to " + path));
  // The rename itself must reach the disk too; a failure here leaves the new file in place.
  const Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) ::fsync(dir_fd.get());
  return ok();
}

Result<bool> update_file(TextFiles& files, const std::string& path, std::string_view content) {
  VF_ASSIGN(current, files.read(path, kMaxTextFileBytes));
  if (current && *current == content) return false;
  VF_TRY(files.replace(path, content));
  return true;
}

}  // namespace vfhook
