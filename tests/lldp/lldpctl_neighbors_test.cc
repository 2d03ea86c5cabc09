// lldpd's neighbours through liblldpctl loaded at run time: a missing library, a daemon that
// is not running, and a scripted liblldpctl (testing/scripted_lldpctl.cc, loaded by path as
// vfctl loads the real one) whose atoms vfctl must all give back.
#include "lldp/lldpctl_neighbors.h"

#include <dlfcn.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vfhook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The scripted library, kept loaded by the test so that its script outlives vfctl's dlclose.
class ScriptedLldpctl {
 public:
  ScriptedLldpctl() : handle_(dlopen(SCRIPTED_LLDPCTL_PATH, RTLD_NOW | RTLD_LOCAL)) {
    EXPECT_NE(handle_, nullptr) << dlerror();
  }
  ~ScriptedLldpctl() {
    if (handle_) dlclose(handle_);
  }
  template <class F>
  F* symbol(const char* name) {
    return reinterpret_cast<F*>(dlsym(handle_, name));
  }
  void reset(int connect_error = 0) { symbol<void(int)>("scripted_lldpctl_reset")(connect_error); }
  void add_interface(const char* name) {
    symbol<void(const char*)>("scripted_lldpctl_add_interface")(name);
  }
  void add_neighbor(long chassis_subtype, const char* chassis, const char* name, long port_subtype,
                    const char* port, const char* description, long ttl, long pvid,
                    const char* address, long hidden = 0) {
    symbol<void(long, const char*, const char*, long, const char*, const char*, long, long,
                const char*, long)>("scripted_lldpctl_add_neighbor")(
        chassis_subtype, chassis, name, port_subtype, port, description, ttl, pvid, address,
        hidden);
  }
  int live_atoms() { return symbol<int()>("scripted_lldpctl_live_atoms")(); }
  int live_connections() { return symbol<int()>("scripted_lldpctl_live_connections")(); }

 private:
  void* handle_;
};

TEST(LldpctlNeighbors, NoLibraryIsNoDataWithTheReasonAndWhatToDo) {
  LldpctlNeighbors lldpd("liblldpctl-vfhook-absent.so.4");
  auto neighbors = lldpd.neighbors_of("enp1s0");
  ASSERT_FALSE(neighbors);
  EXPECT_EQ(neighbors.error().kind, ErrorKind::not_found);
  EXPECT_THAT(neighbors.error().message, HasSubstr("cannot load liblldpctl-vfhook-absent.so.4"));
  EXPECT_THAT(neighbors.error().message, HasSubstr("install lldpd"));
  EXPECT_THAT(neighbors.error().message, HasSubstr("--lldp-listen"));
  EXPECT_FALSE(lldpd.neighbors_of("enp2s0"));  // asked again: the same answer
}

TEST(LldpctlNeighbors, ReadsEveryInterfaceOnceAndGivesBackEveryAtom) {
  ScriptedLldpctl lib;
  lib.reset();
  lib.add_interface("enp1s0");
  lib.add_neighbor(4, "52:54:00:12:34:02", "lab-host-b", 3, "52:54:00:12:34:02", "enp1s0", 120, 0,
                   "10.77.0.2");
  lib.add_neighbor(4, "52:54:00:12:34:99", "hidden-one", 3, "52:54:00:12:34:99", "x", 120, 0, "",
                   /*hidden=*/1);
  lib.add_interface("enp2s0");  // watched, nothing heard
  lib.add_interface("enp3s0");
  lib.add_neighbor(4, "00:1b:54:aa:bb:cc", "sw\x1b[0m", 5, "Gi1/0/12", "GigabitEthernet1/0/12",
                   0 /* on the port: falls back to the chassis, which says nothing */, 110, "");
  {
    LldpctlNeighbors lldpd(SCRIPTED_LLDPCTL_PATH);
    auto one = lldpd.neighbors_of("enp1s0");
    ASSERT_TRUE(one) << one.error().message;
    ASSERT_EQ(one->size(), 1u);  // the hidden neighbour is left out, as lldpcli does
    const LldpNeighbor& b = (*one)[0];
    EXPECT_EQ(b.chassis.subtype, 4);
    EXPECT_EQ(b.chassis.value, "52:54:00:12:34:02");
    EXPECT_EQ(b.system_name, "lab-host-b");
    EXPECT_EQ(b.system_description, "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(b.port.subtype, 3);
    EXPECT_EQ(b.port_description, "enp1s0");
    EXPECT_EQ(b.ttl_seconds, 120);
    EXPECT_EQ(b.port_vlan_id, std::nullopt);
    EXPECT_THAT(b.management_addresses, ElementsAre("10.77.0.2"));
    EXPECT_EQ(neighbor_port_text(b), "enp1s0");

    auto two = lldpd.neighbors_of("enp2s0");
    ASSERT_TRUE(two);
    EXPECT_THAT(*two, IsEmpty());

    auto three = lldpd.neighbors_of("enp3s0");
    ASSERT_TRUE(three);
    ASSERT_EQ(three->size(), 1u);
    EXPECT_EQ((*three)[0].system_name, "sw\\x1b[0m");  // lldpd passes on what it heard
    EXPECT_EQ((*three)[0].port_vlan_id, 110);
    EXPECT_EQ((*three)[0].ttl_seconds, 0);

    auto unwatched = lldpd.neighbors_of("enp4s0");
    ASSERT_FALSE(unwatched);
    EXPECT_THAT(unwatched.error().message, HasSubstr("lldpd does not watch enp4s0"));

    EXPECT_EQ(lib.live_atoms(), 0);
    EXPECT_EQ(lib.live_connections(), 0);
  }
}

TEST(LldpctlNeighbors, ADaemonThatIsNotRunningIsNoDataWithTheLibrarysReason) {
  ScriptedLldpctl lib;
  lib.reset(-504);  // LLDPCTL_ERR_CANNOT_CONNECT
  LldpctlNeighbors lldpd(SCRIPTED_LLDPCTL_PATH);
  auto neighbors = lldpd.neighbors_of("enp1s0");
  ASSERT_FALSE(neighbors);
  EXPECT_THAT(neighbors.error().message, HasSubstr("lldpd: cannot connect to lldpd"));
  EXPECT_THAT(neighbors.error().message, HasSubstr("unable to connect to socket"));
  EXPECT_THAT(neighbors.error().message, HasSubstr("systemctl start lldpd"));
  EXPECT_EQ(lib.live_connections(), 0);
}

// Debian's own liblldpctl.so.4, when this machine has the lldpd package: with or without a
// running daemon, vfctl gets an answer or a reason, never a crash. Skipped without lldpd.
TEST(LldpctlNeighbors, TheRealLibraryAnswersOrSaysWhy) {
  void* real = dlopen(LldpctlNeighbors::kDefaultLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!real) GTEST_SKIP() << "no liblldpctl.so.4 (the lldpd package) on this machine";
  dlclose(real);
  LldpctlNeighbors lldpd;
  auto neighbors = lldpd.neighbors_of("vfhook-none0");
  ASSERT_FALSE(neighbors);  // no lldpd watches an interface that does not exist
  EXPECT_THAT(neighbors.error().message, HasSubstr("lldpd"));
  std::cout << "real liblldpctl: " << neighbors.error().message << "\n";
}

}  // namespace
}  // namespace vfhook
