// RealHostFiles on a temporary directory: what read() refuses, and lstat against stat.
#include "cli/host_files.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "testing/fake_sysfs_tree.h"

namespace vfhook {
namespace {

TEST(RealHostFiles, RefusesSymlinksAndOversizedFilesAndTellsMissingFromBroken) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "pid").string();
  const std::string link = (dir.path() / "link").string();
  std::ofstream(file) << "4242\n";
  std::filesystem::create_symlink(file, link);
  RealHostFiles files;

  auto content = files.read(file, 16);
  ASSERT_TRUE(content) << content.error().message;
  EXPECT_EQ(*content, "4242\n");
  EXPECT_FALSE(files.read(file, 4));  // larger than the cap
  auto through_link = files.read(link, 16);
  ASSERT_FALSE(through_link);
  EXPECT_EQ(through_link.error().sys_errno, ELOOP);
  EXPECT_FALSE(files.read(dir.path().string(), 16));  // not a regular file

  auto missing = files.lstat((dir.path() / "none").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  auto link_info = files.lstat(link);
  ASSERT_TRUE(link_info);
  EXPECT_EQ(link_info->type, FileInfo::Type::symlink);
  auto target_info = files.stat(link);
  ASSERT_TRUE(target_info);
  EXPECT_EQ(target_info->type, FileInfo::Type::regular);
  EXPECT_TRUE(files.exists(link));
}

}  // namespace
}  // namespace vfhook
