#include "engine/host_backends.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace vfhook {
namespace {

class OpenHostBackendsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vfhook-context-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    // The real sysfs and netlink backends: opening them reads and changes nothing.
    config_.state_dir = (root_ / "state").string();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::filesystem::path root_;
  HostConfig config_;
};

TEST_F(OpenHostBackendsTest, CreatesAMissingStateDirectoryForRootOnly) {
  auto backends = open_host_backends(config_);
  ASSERT_TRUE(backends) << backends.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(config_.state_dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_TRUE(std::filesystem::exists(config_.state_dir + "/vfhook.db"));
}

TEST_F(OpenHostBackendsTest, RefusesAStateDirectoryAnyoneCanWrite) {
  ASSERT_EQ(::mkdir(config_.state_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(config_.state_dir.c_str(), 0777), 0);
  auto backends = open_host_backends(config_);
  ASSERT_FALSE(backends);
  EXPECT_EQ(backends.error().kind, ErrorKind::policy);
  EXPECT_EQ(backends.error().message,
            "state directory " + config_.state_dir +
                " is writable by group/others (mode 0777): anyone on this host could plant a "
                "claims database whose VF snapshots vfhook applies at release; run chmod go-w " +
                config_.state_dir);
  EXPECT_FALSE(std::filesystem::exists(config_.state_dir + "/vfhook.db"));
}

}  // namespace
}  // namespace vfhook
