#include "engine/domain_marker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "model/domain_marker_name.h"
#include "util/fd.h"

namespace vfhook {
namespace {

std::optional<std::string> marker_name(const std::string& domain) {
  char name[kMaxMarkerNameBytes + 1];
  size_t length = encode_domain_marker_name(domain, name, sizeof name);
  if (length == 0) return std::nullopt;
  return std::string(name, length);
}

std::string marker_dir(const std::string& state_dir) {
  return state_dir + "/" + std::string(kDomainMarkerDir);
}

Status create_marker(const std::string& path) {
  const Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(errno_error(errno, "create the domain marker " + path));
  return ok();
}

// Creates the markers directory with a marker for every domain that holds a claim now: built
// under a temporary name, then renamed into place, so that it never exists without them.
Status create_marker_dir(const std::string& state_dir, const std::vector<Claim>& claims) {
  std::string temp = state_dir + "/" + std::string(kDomainMarkerDir) + ".new-XXXXXX";
  if (::mkdtemp(temp.data()) == nullptr)
    return fail(errno_error(errno, "create the directory " + temp));
  std::set<std::string> owners;
  for (const Claim& claim : claims) owners.insert(claim.domain);
  Status filled = ok();
  for (const std::string& owner : owners) {
    auto name = marker_name(owner);
    if (!name) continue;
    filled = create_marker(temp + "/" + *name);
    if (!filled) break;
  }
  int renamed = filled ? ::rename(temp.c_str(), marker_dir(state_dir).c_str()) : -1;
  int rename_errno = errno;
  if (!filled || renamed != 0) {
    std::error_code ignored;
    std::filesystem::remove_all(temp, ignored);
  }
  if (!filled) return filled;
  // Another process got there first (only a crashed one can: markers change under the store's
  // write lock): its directory is as good.
  if (renamed != 0 && rename_errno != EEXIST && rename_errno != ENOTEMPTY)
    return fail(errno_error(rename_errno, "create the directory " + marker_dir(state_dir)));
  return ok();
}

Status ensure_marker_dir(const std::string& state_dir, const std::vector<Claim>& claims) {
  struct stat st {};
  if (::stat(marker_dir(state_dir).c_str(), &st) == 0) return ok();
  if (errno != ENOENT) return fail(errno_error(errno, "stat " + marker_dir(state_dir)));
  return create_marker_dir(state_dir, claims);
}

}  // namespace

Status mark_domain(const std::string& state_dir, const std::string& domain,
                   const std::vector<Claim>& claims) {
  auto name = marker_name(domain);
  if (!name) return ok();
  VF_TRY(ensure_marker_dir(state_dir, claims));
  return create_marker(marker_dir(state_dir) + "/" + *name);
}

Status sync_domain_markers(const std::string& state_dir, const std::vector<std::string>& domains,
                           Store& store) {
  return store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    VF_TRY(ensure_marker_dir(state_dir, claims));
    for (const std::string& domain : domains) {
      auto name = marker_name(domain);
      if (!name) continue;
      bool holds = std::any_of(claims.begin(), claims.end(),
                               [&](const Claim& claim) { return claim.domain == domain; });
      std::string path = marker_dir(state_dir) + "/" + *name;
      if (holds) {
        VF_TRY(create_marker(path));
      } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return fail(errno_error(errno, "remove the domain marker " + path));
      }
    }
    return ok();
  });
}

}  // namespace vfhook
