#include "qmp/message_reader.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace vfhook {
namespace {

std::string text_of(const JsonPtr& message) {
  return json_text(message.get());
}

TEST(QmpMessageReaderTest, SeveralMessagesInOneFeedComeOutInOrder) {
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  ASSERT_TRUE(reader.feed("{\"event\":\"A\"}\r\n{\"event\":\"B\"}\r\n{\"return\":{},\"id\":1}\r\n",
                          messages));
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(text_of(messages[0]), R"({"event":"A"})");
  EXPECT_EQ(text_of(messages[1]), R"({"event":"B"})");
  EXPECT_EQ(text_of(messages[2]), R"({"return":{},"id":1})");
  EXPECT_FALSE(reader.inside_message());
}

TEST(QmpMessageReaderTest, MessageSplitByteByByteCompletesOnItsLastByte) {
  const std::string stream =
      "{\"return\": {\"status\": \"running\", \"ok\": [1, 2.5, \"\\u00e9\"]}, "
      "\"id\": 7}\r\n{\"event\":\"STOP\"}\r\n";
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(reader.feed(stream.substr(i, 1), messages)) << "at byte " << i;
    if (i + 1 < stream.find('\r')) {
      EXPECT_TRUE(messages.empty()) << "at byte " << i;
    }
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(text_of(messages[0]),
            "{\"return\":{\"status\":\"running\",\"ok\":[1,2.5,\"\xc3\xa9\"]},\"id\":7}");
  EXPECT_EQ(text_of(messages[1]), R"({"event":"STOP"})");
}

TEST(QmpMessageReaderTest, BlanksBetweenMessagesAreSkipped) {
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  ASSERT_TRUE(reader.feed("\r\n  \r\n", messages));
  EXPECT_FALSE(reader.inside_message());
  ASSERT_TRUE(reader.feed("\t{\"a\":1}  {\"b\":2}\n\n", messages));
  EXPECT_EQ(messages.size(), 2u);
}

void expect_refused(std::string_view stream, std::string_view why) {
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  auto fed = reader.feed(stream, messages);
  ASSERT_FALSE(fed) << stream;
  EXPECT_EQ(fed.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(fed.error().message.find(why), std::string::npos) << fed.error().message;
  // The reader stays failed: nothing after garbage can be framed.
  auto again = reader.feed("{\"return\":{},\"id\":1}\r\n", messages);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, fed.error().message);
}

TEST(QmpMessageReaderTest, RefusesTextThatIsNotJson) {
  expect_refused("hello QEMU\r\n", "not a JSON object (it starts with 'h')");
  expect_refused("{\"return\": {}, \"id\": 1]\r\n", "invalid JSON");
  expect_refused("}\r\n", "not a JSON object (it starts with '}')");
  expect_refused("{\"return\": tru}\r\n", "invalid JSON");
  expect_refused("{\"return\": 17000000-0}\r\n", "invalid JSON");  // json-c took it split
  expect_refused("{\"return\": {}}}\r\n", "it starts with '}'");
}

TEST(QmpMessageReaderTest, RefusesJsonThatIsNotAnObject) {
  expect_refused("[1, 2]\r\n", "not a JSON object (it starts with '[')");
  expect_refused("\"greeting\"\r\n", "not a JSON object (it starts with '\"')");
  expect_refused("42\r\n", "not a JSON object (it starts with '4')");
  expect_refused("null\r\n", "not a JSON object (it starts with 'n')");
}

TEST(QmpMessageReaderTest, RefusesAMessageLongerThanTheCap) {
  QmpMessageReader reader(64);
  std::deque<JsonPtr> messages;
  ASSERT_TRUE(reader.feed("{\"return\":\"" + std::string(40, 'x') + "\"}\r\n", messages));
  auto fed = reader.feed("{\"return\":\"" + std::string(100, 'x'), messages);
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(fed.error().message.find("longer than 64 bytes"), std::string::npos);
  EXPECT_EQ(messages.size(), 1u);
}

TEST(QmpMessageReaderTest, RefusesAMessageThatGrowsPastTheCapAcrossFeeds) {
  QmpMessageReader reader(1000);
  std::deque<JsonPtr> messages;
  ASSERT_TRUE(reader.feed("{\"return\":[", messages));
  Status fed = ok();
  for (int i = 0; i < 1000 && fed; ++i) fed = reader.feed("1,", messages);
  ASSERT_FALSE(fed);
  EXPECT_NE(fed.error().message.find("longer than 1000 bytes"), std::string::npos);
}

TEST(QmpMessageReaderTest, KeepsTheMessagesBeforeANulByteAndRefusesIt) {
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  auto fed = reader.feed(std::string_view("{\"event\":\"A\"}\r\n\0{}", 19), messages);
  ASSERT_FALSE(fed);
  EXPECT_NE(fed.error().message.find("NUL byte"), std::string::npos);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(text_of(messages[0]), R"({"event":"A"})");
}

TEST(QmpMessageReaderTest, RefusesInvalidUtf8) {
  expect_refused("{\"return\":\"caf\xc3\"}\r\n", "not UTF-8");
  expect_refused("{\"ret\xffurn\":1}\r\n", "not UTF-8");
  expect_refused("{\"return\":\"\xed\xa0\x80\"}\r\n", "not UTF-8");  // a surrogate
  expect_refused("{\"return\":\"\xc0\xaf\"}\r\n", "not UTF-8");      // overlong
}

// Found by fuzz/qmp_stream_fuzz: json-c fed piece by piece reads past a complete object
// (blanks, comments; with its UTF-8 check, any byte), so a message followed by a bad byte in
// the same read was lost, and kept when the read ended between them.
TEST(QmpMessageReaderTest, AMessageIsHandedOutWhateverFollowsItInTheSameRead) {
  for (const char* garbage : {"\xff\xff{", "/{", "/*", "x"}) {
    for (size_t split : {size_t{0}, size_t{23}}) {
      const std::string stream = std::string("{\"return\":{},\"id\":1}\r\n") + garbage;
      QmpMessageReader reader;
      std::deque<JsonPtr> messages;
      Status fed = ok();
      if (split > 0) fed = reader.feed(std::string_view(stream).substr(0, split), messages);
      if (fed) fed = reader.feed(std::string_view(stream).substr(split), messages);
      EXPECT_FALSE(fed) << garbage << ", split at " << split;
      ASSERT_EQ(messages.size(), 1u) << garbage << ", split at " << split;
      EXPECT_EQ(text_of(messages[0]), R"({"return":{},"id":1})");
    }
  }
}

// Also found by the fuzzer: json-c took "17000000-0" as a number when it came a byte at a
// time and refused it when it came whole.
TEST(QmpMessageReaderTest, TheVerdictOnANumberDoesNotDependOnReadBoundaries) {
  const std::string stream = "{\"seconds\": 17000000-0}\r\n";
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  Status fed = ok();
  for (size_t i = 0; i < stream.size() && fed; ++i)
    fed = reader.feed(stream.substr(i, 1), messages);
  EXPECT_FALSE(fed);
  EXPECT_TRUE(messages.empty());
}

TEST(QmpMessageReaderTest, BracesAndBracketsInsideStringsDoNotEndAMessage) {
  QmpMessageReader reader;
  std::deque<JsonPtr> messages;
  ASSERT_TRUE(reader.feed(R"({"desc": "} ] \" \\ {", "id": 1})", messages));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(text_of(messages[0]), R"({"desc":"} ] \" \\ {","id":1})");
}

TEST(QmpMessageReaderTest, RefusesNestingDeeperThanTheLimit) {
  std::string deep = "{\"return\":" + std::string(100, '[') + std::string(100, ']') + "}\r\n";
  expect_refused(deep, "nests deeper than 64 levels");
}

}  // namespace
}  // namespace vfhook
