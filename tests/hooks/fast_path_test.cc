#include "hooks/fast_path.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace vfhook {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FastPath, ParsesLibvirtsArgv) {
  const char* argv[] = {"vfhook", "vm1", "prepare", "begin", "-"};
  HookCall call;
  ASSERT_TRUE(parse_hook_call(5, argv, call));
  EXPECT_EQ(call.domain, "vm1");
  EXPECT_EQ(call.op, HookOp::prepare);
  EXPECT_EQ(call.subop, "begin");
  EXPECT_TRUE(call.config_path.empty());
}

TEST(FastPath, TakesAConfigPathFirst) {
  const char* argv[] = {"vfhook", "--config", "/tmp/x.toml", "vm1", "release", "end", "-"};
  HookCall call;
  ASSERT_TRUE(parse_hook_call(7, argv, call));
  EXPECT_EQ(call.config_path, "/tmp/x.toml");
  EXPECT_EQ(call.op, HookOp::release);
}

TEST(FastPath, RefusesAnythingElse) {
  HookCall call;
  const char* too_few[] = {"vfhook", "vm1", "prepare", "begin"};
  EXPECT_FALSE(parse_hook_call(4, too_few, call));
  const char* empty_domain[] = {"vfhook", "", "prepare", "begin", "-"};
  EXPECT_FALSE(parse_hook_call(5, empty_domain, call));
  const char* empty_config[] = {"vfhook", "--config", "", "vm1", "prepare", "begin", "-"};
  EXPECT_FALSE(parse_hook_call(7, empty_config, call));
}

TEST(FastPath, ADomainWithoutVfsNeedsNoWorkAtAnyEvent) {
  std::string xml = read_file(VFHOOK_SOURCE_DIR "/bench/no_vf_domain.xml");
  ASSERT_FALSE(xml.empty());
  // The fixture has an <interface type='network'> on the default NAT network, so release
  // must look at the claims; every other event is nothing.
  for (HookOp op : {HookOp::prepare, HookOp::start, HookOp::reconnect, HookOp::started,
                    HookOp::stopped, HookOp::migrate, HookOp::restore, HookOp::other})
    EXPECT_EQ(decide_work(op, xml), Work::none) << to_string(op);
  EXPECT_EQ(decide_work(HookOp::release, xml), Work::full);
}

TEST(FastPath, AnyHostdevFormOrPortRecordNeedsTheCore) {
  for (const char* xml :
       {"<domain><devices><interface type='hostdev'/></devices></domain>",
        "<domain><devices><hostdev mode='subsystem' type='pci'/></devices></domain>",
        "<domain><devices><interface type='network'><actual type='hostdev'/></interface>"
        "</devices></domain>",
        "<domain><metadata><p:ports xmlns:p=\"urn:vfhook:ports:1\"/></metadata></domain>"}) {
    EXPECT_EQ(decide_work(HookOp::prepare, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::start, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::release, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::started, xml), Work::none) << xml;
  }
}

TEST(FastPath, ReleaseLooksOnlyAtInterfaceTypesForNetworks) {
  // A <source network='x'> on a bridge interface is not a network interface.
  EXPECT_EQ(decide_work(HookOp::release,
                        "<domain><devices><interface type='bridge'><source network='x'/>"
                        "</interface></devices></domain>"),
            Work::none);
  EXPECT_EQ(decide_work(HookOp::release,
                        "<domain><devices><interface model='x' type=\"network\">"
                        "</interface></devices></domain>"),
            Work::full);
}

}  // namespace
}  // namespace vfhook
