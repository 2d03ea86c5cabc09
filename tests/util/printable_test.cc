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
  EXPECT_EQ(printable(std::string(300, 'a')), std::string(64, 'a') + "...");
  EXPECT_EQ(printable(std::string(300, 'a'), 255), std::string(255, 'a') + "...");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace vfhook
