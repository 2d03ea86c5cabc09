#include "util/printable.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

TEST(Printable, KeepsPrintableAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(printable("web-01.example (prod)"), "web-01.example (prod)");
  EXPECT_EQ(printable("vm\n1"), "vm\\x0a1");
  EXPECT_EQ(printable("vm\x1b[31mred"), "vm\\x1b[31mred");
  EXPECT_EQ(printable(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\\xc3\\xa9");
  EXPECT_EQ(printable("\x7f\xc2\x9b"), "\\x7f\\xc2\\x9b") << "DEL and a C1 CSI";
  EXPECT_EQ(printable("a\\x0a"), "a\\\\x0a") << "a backslash cannot forge an escape";
}

TEST(Printable, TruncatesLongText) {
  EXPECT_EQ(printable(std::string(300, 'a')), std::string(255, 'a') + "...");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
}

TEST(Printable, NeverOverflowsAFixedBuffer) {
  char out[8];
  EXPECT_EQ(escape_printable("\n\n\n", out, sizeof out), 4u) << "a whole escape or none";
  EXPECT_STREQ(out, "\\x0a");
  EXPECT_EQ(escape_printable("abc", out, 0), 0u);
  EXPECT_EQ(escape_printable("abcdefghijk", out, sizeof out), 7u);
  EXPECT_STREQ(out, "abcdefg");
}

}  // namespace
}  // namespace vfhook
