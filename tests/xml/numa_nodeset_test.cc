#include "xml/numa_nodeset.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

TEST(NumaNodeset, ParsesRangesAndExclusions) {
  EXPECT_EQ(*parse_numa_nodeset("0-1,3"), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(*parse_numa_nodeset("0-7,^4"), (std::vector<int>{0, 1, 2, 3, 5, 6, 7}));
  EXPECT_EQ(*parse_numa_nodeset("3,1,3"), (std::vector<int>{1, 3}));
  EXPECT_EQ(*parse_numa_nodeset("1023"), (std::vector<int>{1023}));
  for (const char* bad : {"", "1024", "1-0", "-1", "0,,1", ",0", "0,", "a", "0-", "0x1", " 0", "0 ",
                          "^0", "00001", "0-1024"})
    EXPECT_FALSE(parse_numa_nodeset(bad)) << bad;
}

}  // namespace
}  // namespace vfhook
