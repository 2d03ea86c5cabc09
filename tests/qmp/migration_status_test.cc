// The MIGRATION event's data as libvirt hands it to vfctl: QEMU's states, and untrusted text
// that is not one.
#include "qmp/migration_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace vfhook {
namespace {

using ::testing::HasSubstr;

TEST(MigrationStatusTest, EachStateQemuReportsIsRead) {
  const std::pair<const char*, QemuMigrationStatus> cases[] = {
      {R"({"status": "setup"})", QemuMigrationStatus::setup},
      {R"({"status": "wait-unplug"})", QemuMigrationStatus::wait_unplug},
      {R"({"status":"active"})", QemuMigrationStatus::active},
      {R"({"status": "completed"})", QemuMigrationStatus::completed},
      {R"({"status": "failed"})", QemuMigrationStatus::failed},
      {R"({"status": "cancelled"})", QemuMigrationStatus::cancelled},
      {R"({"status": "pre-switchover"})", QemuMigrationStatus::other},
      {R"({"status": "postcopy-active", "extra": [1, 2]})", QemuMigrationStatus::other},
      {"{\"status\": \"active\"}\n", QemuMigrationStatus::active},
  };
  for (const auto& [text, expected] : cases) {
    auto status = parse_migration_event(text);
    ASSERT_TRUE(status) << text << ": " << status.error().message;
    EXPECT_EQ(*status, expected) << text;
  }
  EXPECT_EQ(to_string(QemuMigrationStatus::wait_unplug), "wait-unplug");
  EXPECT_EQ(to_string(QemuMigrationStatus::other), "other");
}

TEST(MigrationStatusTest, DataThatIsNotAStatusObjectIsRefused) {
  const std::pair<std::string, const char*> cases[] = {
      {"", "not one JSON value"},
      {R"({"status": "active")", "not one JSON value"},
      {R"({"status": "active"} {"status": "failed"})", "not one JSON value"},
      {R"({"status": "active"}x)", "not one JSON value"},
      {R"(["active"])", "expected an object, got an array"},
      {R"("active")", "expected an object, got a string"},
      {R"({"status": {"name": "active"}})", "expected a string, got an object"},
      {R"({"state": "active"})", "no member 'status'"},
      {R"({"status": 3})", "expected a string, got an integer"},
      {R"({"status": null})", "expected a string, got null"},
      {"{\"status\": \"" + std::string(5000, 'a') + "\"}", "longer than 4096 bytes"},
  };
  for (const auto& [text, message] : cases) {
    auto status = parse_migration_event(text);
    ASSERT_FALSE(status) << text;
    EXPECT_EQ(status.error().kind, ErrorKind::invalid_input) << text;
    EXPECT_THAT(status.error().message, HasSubstr(message)) << text;
  }
}

// libvirt passes the text on as QEMU sent it: a NUL inside is not the end of it.
TEST(MigrationStatusTest, ANulInsideTheTextIsNotTheEnd) {
  const std::string text("{\"status\": \"active\"}\0{", 22);
  EXPECT_FALSE(parse_migration_event(text));
}

}  // namespace
}  // namespace vfhook
