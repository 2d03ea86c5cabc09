#include "util/fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "testing/fake_clock.h"
#include "util/file_lock.h"

namespace vfhook {
namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

TEST(Fd, ClosesOnceWhenItGoesOutOfScopeAndMovesOwnership) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    Fd first(raw);
    EXPECT_TRUE(first);
    Fd second(std::move(first));
    EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    EXPECT_EQ(second.get(), raw);
    Fd third;
    third = std::move(second);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, AssigningOverAnOpenFdClosesTheOldOne) {
  int a = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  Fd held(a);
  held = Fd(b);
  EXPECT_FALSE(is_open(a));
  EXPECT_TRUE(is_open(b));
  held.reset();
  EXPECT_FALSE(is_open(b));
  EXPECT_FALSE(held);
}

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/vfhook-lock-XXXXXX";
    int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    path = name;
    file = Fd(fd);
  }
  void TearDown() override { ::unlink(path.c_str()); }
  // Another open file description of the same file: flock treats it as another holder.
  Fd other() { return Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)); }

  std::string path;
  Fd file;
  FakeClock clock;
};

TEST_F(FileLockTest, HeldUntilItGoesOutOfScope) {
  Fd peer = other();
  {
    auto lock = FileLock::acquire(file.get(), FileLock::Mode::exclusive,
                                  std::chrono::milliseconds(100), clock, "the test file");
    ASSERT_TRUE(lock) << lock.error().message;
    EXPECT_EQ(::flock(peer.get(), LOCK_EX | LOCK_NB), -1);
    EXPECT_EQ(errno, EWOULDBLOCK);
  }
  EXPECT_EQ(::flock(peer.get(), LOCK_EX | LOCK_NB), 0);
}

TEST_F(FileLockTest, GivesUpAfterTheTimeoutWithAConflictNamingWhatWasLocked) {
  Fd peer = other();
  ASSERT_EQ(::flock(peer.get(), LOCK_EX | LOCK_NB), 0);
  auto lock = FileLock::acquire(file.get(), FileLock::Mode::exclusive,
                                std::chrono::milliseconds(100), clock, "the test file");
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().kind, ErrorKind::conflict);
  EXPECT_NE(lock.error().message.find("the test file"), std::string::npos);
  // It waited on the clock it was given, for about the timeout, not forever and not at all.
  EXPECT_GE(clock.slept(), std::chrono::milliseconds(100));
  EXPECT_LE(clock.slept(), std::chrono::milliseconds(110));
}

TEST_F(FileLockTest, SharedLocksCoexistAndExcludeAnExclusiveOne) {
  Fd peer = other();
  ASSERT_EQ(::flock(peer.get(), LOCK_SH | LOCK_NB), 0);
  auto shared = FileLock::acquire(file.get(), FileLock::Mode::shared, std::chrono::milliseconds(0),
                                  clock, "the test file");
  EXPECT_TRUE(shared);
  Fd third = other();
  auto exclusive = FileLock::acquire(third.get(), FileLock::Mode::exclusive,
                                     std::chrono::milliseconds(20), clock, "the test file");
  EXPECT_FALSE(exclusive);
}

TEST_F(FileLockTest, ABadDescriptorIsAnErrorNotAWait) {
  auto lock = FileLock::acquire(-1, FileLock::Mode::exclusive, std::chrono::milliseconds(100),
                                clock, "nothing");
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().sys_errno, EBADF);
  EXPECT_EQ(clock.slept(), FakeClock::Duration{0});
}

}  // namespace
}  // namespace vfhook
