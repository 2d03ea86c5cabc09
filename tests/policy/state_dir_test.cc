#include "policy/state_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "temp_dir.h"

namespace vfhook {
namespace {

struct stat owned_by(uid_t uid, mode_t mode) {
  struct stat st {};
  st.st_uid = uid;
  st.st_mode = mode;
  return st;
}

TEST(StateDir, RootOrTheCurrentUserMayOwnIt) {
  EXPECT_TRUE(check_state_owner_and_mode(owned_by(0, S_IFDIR | 0700), "/s", StatePart::directory));
  EXPECT_TRUE(check_state_owner_and_mode(owned_by(::geteuid(), S_IFDIR | 0755), "/s",
                                         StatePart::directory));
  EXPECT_TRUE(
      check_state_owner_and_mode(owned_by(0, S_IFREG | 0600), "/s/vfhook.db", StatePart::database));
}

TEST(StateDir, RefusesADirectoryOwnedBySomeoneElse) {
  const uid_t other = ::geteuid() == 4242 ? 4243 : 4242;
  auto status = check_state_owner_and_mode(owned_by(other, S_IFDIR | 0700), "/var/lib/vfhook",
                                           StatePart::directory);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::policy);
  EXPECT_EQ(status.error().message,
            "state directory /var/lib/vfhook is owned by uid " + std::to_string(other) +
                ", neither root nor uid " + std::to_string(::geteuid()) +
                ": that user could plant a claims database whose VF snapshots vfhook applies at "
                "release; run chown root /var/lib/vfhook");
}

TEST(StateDir, RefusesADatabaseOwnedBySomeoneElse) {
  const uid_t other = ::geteuid() == 4242 ? 4243 : 4242;
  auto status = check_state_owner_and_mode(owned_by(other, S_IFREG | 0600),
                                           "/var/lib/vfhook/vfhook.db", StatePart::database);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::policy);
  EXPECT_EQ(status.error().message,
            "claims database /var/lib/vfhook/vfhook.db is owned by uid " + std::to_string(other) +
                ", neither root nor uid " + std::to_string(::geteuid()) +
                ": that user could change the VF snapshots vfhook applies at release; run chown "
                "root /var/lib/vfhook/vfhook.db");
}

TEST(StateDir, RefusesWhatGroupOrOthersMayWrite) {
  auto dir = check_state_owner_and_mode(owned_by(0, S_IFDIR | 01777), "/tmp", StatePart::directory);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().kind, ErrorKind::policy);
  EXPECT_EQ(dir.error().message,
            "state directory /tmp is writable by group/others (mode 1777): anyone on this host "
            "could plant a claims database whose VF snapshots vfhook applies at release; run "
            "chmod go-w /tmp");
  auto db =
      check_state_owner_and_mode(owned_by(0, S_IFREG | 0620), "/s/vfhook.db", StatePart::database);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().message,
            "claims database /s/vfhook.db is writable by group/others (mode 0620): anyone in "
            "that group could change the VF snapshots vfhook applies at release; run chmod go-w "
            "/s/vfhook.db");
}

TEST(StateDir, ChecksTheRealDirectory) {
  testing::TempDir dir;  // mkdtemp: 0700, ours
  const std::string path = dir.path().string();
  EXPECT_TRUE(check_state_dir(path));

  ASSERT_EQ(::chmod(path.c_str(), 0777), 0);
  auto open = check_state_dir(path);
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().kind, ErrorKind::policy);
  EXPECT_NE(open.error().message.find("state directory " + path +
                                      " is writable by group/others (mode 0777)"),
            std::string::npos)
      << open.error().message;
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  EXPECT_TRUE(check_state_dir(path));
}

TEST(StateDir, FollowsASymlinkToAGoodDirectory) {
  testing::TempDir dir;
  ASSERT_EQ(::mkdir(dir.file("real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir.file("real").c_str(), dir.file("state").c_str()), 0);
  EXPECT_TRUE(check_state_dir(dir.file("state")));
}

TEST(StateDir, RefusesAFileOrNothing) {
  testing::TempDir dir;
  FILE* f = fopen(dir.file("file").c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  auto file = check_state_dir(dir.file("file"));
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find(dir.file("file")), std::string::npos) << file.error().message;
  auto missing = check_state_dir(dir.file("missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  EXPECT_NE(missing.error().message.find(dir.file("missing")), std::string::npos);
}

TEST(StateDir, RefusesADirectoryReallyOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a directory away";
  testing::TempDir dir;
  const std::string path = dir.file("state");
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto status = check_state_dir(path);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("is owned by uid 65534"), std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().message.find("run chown root " + path), std::string::npos);
}

}  // namespace
}  // namespace vfhook
