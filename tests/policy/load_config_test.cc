#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "policy/config.h"
#include "temp_dir.h"

namespace vfhook {
namespace {

constexpr const char* small_config = "[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nflat = true\n";

std::string write_config(const testing::TempDir& dir, mode_t mode,
                         const std::string& text = small_config) {
  const std::string path = dir.file("vfhook.toml");
  std::ofstream(path) << text;
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

TEST(LoadConfig, AcceptsAFileOnlyItsOwnerCanWrite) {
  testing::TempDir dir;
  const std::string path = write_config(dir, 0644);
  auto config = load_config(path);
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->pools.size(), 1u);
  EXPECT_EQ(config->pools[0].name, "p");
}

TEST(LoadConfig, RefusesAGroupWritableFile) {
  testing::TempDir dir;
  const std::string path = write_config(dir, 0664);
  auto config = load_config(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().kind, ErrorKind::policy);
  EXPECT_EQ(config.error().message,
            path +
                " is writable by group/others (mode 0664): anyone in that group could "
                "change VLAN policy; run chmod go-w " +
                path);
}

TEST(LoadConfig, RefusesAWorldWritableFile) {
  testing::TempDir dir;
  const std::string path = write_config(dir, 0646);
  auto config = load_config(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().kind, ErrorKind::policy);
  EXPECT_NE(config.error().message.find("(mode 0646): anyone on this host could change VLAN "
                                        "policy; run chmod go-w "),
            std::string::npos)
      << config.error().message;
}

TEST(LoadConfig, ChecksTheFileASymlinkPointsTo) {
  testing::TempDir dir;
  const std::string target = write_config(dir, 0666);
  const std::string link = dir.file("link.toml");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto refused = load_config(link);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("mode 0666"), std::string::npos);
  ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
  auto accepted = load_config(link);
  EXPECT_TRUE(accepted) << accepted.error().message;
}

TEST(LoadConfig, RefusesAFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  testing::TempDir dir;
  const std::string path = write_config(dir, 0644);
  ASSERT_EQ(::chown(path.c_str(), 12345, 12345), 0);
  auto config = load_config(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().kind, ErrorKind::policy);
  EXPECT_NE(config.error().message.find("owned by uid 12345"), std::string::npos)
      << config.error().message;
}

TEST(LoadConfig, RefusesAFifoWithoutHanging) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.toml");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto config = load_config(path);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("not a regular file"), std::string::npos);
}

TEST(LoadConfig, RefusesMoreThanOneMebibyte) {
  testing::TempDir dir;
  const std::string path =
      write_config(dir, 0644, std::string(small_config) + "#" + std::string(1 << 20, 'x') + "\n");
  auto config = load_config(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(config.error().message, path + " is larger than 1 MiB");
}

TEST(LoadConfig, MissingFileIsAnOsErrorNamingThePath) {
  testing::TempDir dir;
  auto config = load_config(dir.file("absent.toml"));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().kind, ErrorKind::os);
  EXPECT_EQ(config.error().sys_errno, ENOENT);
  EXPECT_NE(config.error().message.find(dir.file("absent.toml")), std::string::npos);
}

TEST(LoadConfig, ErrorsNameThePathAndLine) {
  testing::TempDir dir;
  const std::string path = write_config(dir, 0600, "\n\nbogus = 1\n");
  auto config = load_config(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message.rfind(path + ":3: unknown key 'bogus'", 0), 0u)
      << config.error().message;
}

}  // namespace
}  // namespace vfhook
