#include "vfio/sysfs.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/fake_sysfs_tree.h"

namespace vfhook {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

TEST(IsSafeName, AcceptsInterfaceAndDriverNames) {
  EXPECT_TRUE(is_safe_name("enp1s0"));
  EXPECT_TRUE(is_safe_name("vfio-pci"));
  EXPECT_TRUE(is_safe_name("0000:01:10.0"));
  EXPECT_TRUE(is_safe_name("eth0.10"));
}

TEST(IsSafeName, RefusesPathLikeOrOversizedNames) {
  EXPECT_FALSE(is_safe_name(""));
  EXPECT_FALSE(is_safe_name("."));
  EXPECT_FALSE(is_safe_name(".."));
  EXPECT_FALSE(is_safe_name("a/b"));
  EXPECT_FALSE(is_safe_name("a b"));
  EXPECT_FALSE(is_safe_name(std::string(65, 'a')));
  EXPECT_FALSE(is_safe_name(std::string("a\0b", 3)));
}

class DirSysfsTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  DirSysfs sysfs{dir.path()};
};

TEST_F(DirSysfsTest, ReadStripsOneTrailingNewline) {
  put(dir.path() / "a/b", "0x1003\n");
  EXPECT_EQ(*sysfs.read("a/b"), "0x1003");
}

TEST_F(DirSysfsTest, ReadRefusesMoreThanAPage) {
  put(dir.path() / "big", std::string(4097, 'x'));
  auto result = sysfs.read("big");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::invalid_input);
  put(dir.path() / "page", std::string(4096, 'x'));
  EXPECT_EQ(sysfs.read("page")->size(), 4096u);
}

TEST_F(DirSysfsTest, ReadOfMissingFileNamesThePathAndErrno) {
  auto result = sysfs.read("no/such");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().sys_errno, ENOENT);
  EXPECT_NE(result.error().message.find((dir.path() / "no/such").string()), std::string::npos);
}

TEST_F(DirSysfsTest, WriteReplacesAnExistingFileButNeverCreatesOne) {
  put(dir.path() / "attr", "old\n");
  ASSERT_TRUE(sysfs.write("attr", "vfio-pci"));
  EXPECT_EQ(*sysfs.read("attr"), "vfio-pci");
  ASSERT_TRUE(sysfs.write("attr", "\n"));  // shorter: nothing of the old value is left
  EXPECT_EQ(*sysfs.read("attr"), "");
  auto created = sysfs.write("new_attr", "1");
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().sys_errno, ENOENT);
  EXPECT_FALSE(fs::exists(dir.path() / "new_attr"));
}

TEST_F(DirSysfsTest, RefusesAbsoluteDotDotAndEmptyComponents) {
  put(dir.path() / "a/b", "x");
  for (const char* bad : {"/etc/passwd", "../x", "a/../a/b", "a//b", "a/./b", "a/", ""}) {
    auto result = sysfs.read(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().kind, ErrorKind::invalid_input) << bad;
    EXPECT_FALSE(sysfs.write(bad, "1")) << bad;
    EXPECT_FALSE(sysfs.exists(bad)) << bad;
  }
}

TEST_F(DirSysfsTest, ReadLinkListAndExists) {
  fs::create_directories(dir.path() / "d");
  fs::create_symlink("../../../bus/pci/drivers/igb", dir.path() / "d/driver");
  put(dir.path() / "d/b", "");
  put(dir.path() / "d/a", "");
  EXPECT_EQ(*sysfs.read_link("d/driver"), "../../../bus/pci/drivers/igb");
  EXPECT_EQ(*sysfs.list("d"), (std::vector<std::string>{"a", "b", "driver"}));
  EXPECT_TRUE(sysfs.exists("d/driver"));  // dangling, but present
  EXPECT_FALSE(sysfs.exists("d/c"));
}

}  // namespace
}  // namespace vfhook
