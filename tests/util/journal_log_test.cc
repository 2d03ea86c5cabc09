// The journal logger's field building and sending, through a recording sink instead of
// sd_journal_sendv; and the choice between the journal and syslog by journald's socket under an
// injected root.
#include "util/journal_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "testing/memory_logger.h"
#include "testing/recording_journal_sink.h"

namespace vfhook {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using testing::RecordingJournalSink;

using namespace std::string_literals;

TEST(JournalFields, MessagePriorityIdentifierThenTheEntrysFieldsInOrder) {
  LogEntry entry{LogLevel::warning, "domain web1: refused: VLAN 250", {}};
  entry.with(log_field::domain, "web1")
      .with(log_field::vf_index, 3)
      .with(log_field::outcome, "refused");
  EXPECT_THAT(
      journal_fields("vfhook", entry),
      ElementsAre("MESSAGE=domain web1: refused: VLAN 250", "PRIORITY=4",
                  "SYSLOG_IDENTIFIER=vfhook", "DOMAIN=web1", "VF_INDEX=3", "OUTCOME=refused"));
  EXPECT_EQ(journal_fields("vfctl", LogEntry{LogLevel::error, "x", {}})[1], "PRIORITY=3");
  EXPECT_EQ(journal_fields("vfctl", LogEntry{LogLevel::info, "x", {}})[1], "PRIORITY=6");
  EXPECT_EQ(journal_fields("vfctl", LogEntry{LogLevel::debug, "x", {}})[1], "PRIORITY=7");
}

TEST(JournalFields, AValueWithNewlinesAndNulsIsOneFieldOfItsOwnBytes) {
  // A domain name an attacker chose, trying to add a field and to cut the value short.
  const std::string hostile = "web1\nOUTCOME=restored\nPRIORITY=0\0tail"s;
  LogEntry entry{LogLevel::info, "message\nSYSLOG_IDENTIFIER=evil", {}};
  entry.with(log_field::domain, hostile).with(log_field::outcome, "refused");

  const std::vector<std::string> fields = journal_fields("vfhook", entry);
  ASSERT_EQ(fields.size(), 5u);  // MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, DOMAIN, OUTCOME
  EXPECT_EQ(fields[0], "MESSAGE=message\nSYSLOG_IDENTIFIER=evil");
  EXPECT_EQ(fields[3], "DOMAIN=" + hostile);
  EXPECT_EQ(fields[3].size(), 7 + hostile.size());  // the NUL and what follows it are kept
  EXPECT_EQ(fields[4], "OUTCOME=refused");
  EXPECT_THAT(fields, Not(Contains("OUTCOME=restored")));
  EXPECT_THAT(fields, Not(Contains("PRIORITY=0")));
}

TEST(JournalFields, FieldsTheJournalWouldRejectOrThatReplaceTheLoggersAreLeftOut) {
  EXPECT_TRUE(valid_journal_field_name("PCI_ADDRESS"));
  EXPECT_TRUE(valid_journal_field_name("VF_INDEX"));
  EXPECT_TRUE(valid_journal_field_name(std::string(64, 'A')));
  EXPECT_FALSE(valid_journal_field_name(std::string(65, 'A')));
  EXPECT_FALSE(valid_journal_field_name(""));
  EXPECT_FALSE(valid_journal_field_name("domain"));
  EXPECT_FALSE(valid_journal_field_name("_PID"));
  EXPECT_FALSE(valid_journal_field_name("1ST"));
  EXPECT_FALSE(valid_journal_field_name("A=B"));
  EXPECT_FALSE(valid_journal_field_name("A\nB"));
  EXPECT_FALSE(valid_journal_field_name("A-B"));

  LogEntry entry{LogLevel::info, "the real message", {}};
  entry.with("lower", "x")
      .with("_PID", "1")
      .with("A=B", "x")
      .with("MESSAGE", "a second message")
      .with("PRIORITY", "0")
      .with("SYSLOG_IDENTIFIER", "sshd")
      .with(log_field::pool, "provider");
  EXPECT_THAT(journal_fields("vfhook", entry),
              ElementsAre("MESSAGE=the real message", "PRIORITY=6", "SYSLOG_IDENTIFIER=vfhook",
                          "POOL=provider"));
}

TEST(JournalLogger, SendsEachEntryAndAPlainLineAsOneEntry) {
  RecordingJournalSink::Record record;
  MemoryLogger* fallback = new MemoryLogger;
  JournalLogger log("vfctl", std::make_unique<RecordingJournalSink>(record),
                    std::unique_ptr<Logger>(fallback));
  log.info("vfs apply: nothing to do");
  LogEntry entry{LogLevel::info, "domain web1: port ua-net0 attached", {}};
  log.record(entry.with(log_field::event, "attach"));

  ASSERT_EQ(record.sent.size(), 2u);
  EXPECT_THAT(record.sent[0], ElementsAre("MESSAGE=vfs apply: nothing to do", "PRIORITY=6",
                                          "SYSLOG_IDENTIFIER=vfctl"));
  EXPECT_THAT(record.sent[1], Contains("EVENT=attach"));
  EXPECT_TRUE(fallback->entries.empty());
}

TEST(JournalLogger, AnEntryTheJournalRefusedGoesToTheFallbackWithItsFields) {
  RecordingJournalSink::Record record;
  record.result = -ECONNREFUSED;  // journald restarting
  MemoryLogger* fallback = new MemoryLogger;
  JournalLogger log("vfhook", std::make_unique<RecordingJournalSink>(record),
                    std::unique_ptr<Logger>(fallback));
  LogEntry entry{LogLevel::error, "rollback: rebind failed", {}};
  log.record(entry.with(log_field::outcome, "undo-failed"));

  ASSERT_EQ(record.sent.size(), 1u);
  ASSERT_EQ(fallback->entries.size(), 1u);
  EXPECT_EQ(fallback->entries[0].message, "rollback: rebind failed");
  EXPECT_EQ(fallback->entries[0].field(log_field::outcome), "undo-failed");
}

class JournalSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/vfhook-journal-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    root = templ;
    std::filesystem::create_directories(root / "run/systemd/journal");
  }
  void TearDown() override {
    if (fd >= 0) close(fd);
    std::filesystem::remove_all(root);
  }
  void bind_socket() {
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = (root / "run/systemd/journal/socket").string();
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    path.copy(addr.sun_path, path.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  std::filesystem::path root;
  int fd = -1;
};

TEST_F(JournalSocketTest, TheJournalWhenItsSocketIsThereElseSyslog) {
  EXPECT_FALSE(journal_socket_present(root.string()));
  EXPECT_NE(dynamic_cast<SyslogLogger*>(open_system_logger("vfhook", root.string()).get()),
            nullptr);

  bind_socket();
  EXPECT_TRUE(journal_socket_present(root.string()));
  EXPECT_TRUE(journal_socket_present(root.string() + "/"));
  EXPECT_NE(dynamic_cast<JournalLogger*>(open_system_logger("vfhook", root.string()).get()),
            nullptr);
}

TEST_F(JournalSocketTest, AFileWhereTheSocketShouldBeIsNoJournal) {
  std::ofstream(root / "run/systemd/journal/socket") << "not a socket";
  EXPECT_FALSE(journal_socket_present(root.string()));
  EXPECT_NE(dynamic_cast<SyslogLogger*>(open_system_logger("vfhook", root.string()).get()),
            nullptr);
}

}  // namespace
}  // namespace vfhook
