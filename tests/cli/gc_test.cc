// vfctl gc on the fakes: sequences no hook saw (a domain undefined while it held a reservation,
// a libvirtd that died between a stop and its release hook), then gc.
#include "cli/gc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/operations.h"
#include "testing/engine_bed.h"
#include "testing/fake_libvirt.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using testing::FakeLibvirt;
using ::testing::HasSubstr;

std::string guest(const std::string& name, const PciAddress& vf, const char* mac) {
  char slot[8], fn[8];
  std::snprintf(slot, sizeof slot, "0x%02x", vf.slot);
  std::snprintf(fn, sizeof fn, "0x%x", vf.function);
  return "<domain type='kvm'><name>" + name +
         "</name><metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'><vfhook:port mac='" +
         mac +
         "' pool='provider' vlan='120'/></vfhook:ports></metadata><devices>"
         "<interface type='hostdev' managed='no'><mac address='" +
         mac + "'/><source><address type='pci' domain='0x0000' bus='0x01' slot='" + slot +
         "' function='" + fn +
         "'/></source><vlan><tag id='120'/></vlan></interface>"
         "</devices></domain>";
}

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (VfState& vf : bed.netlink().pf("enp1s0")->vfs)
      vf.mac = MacAddress{{0x02, 0, 0, 0, 2, static_cast<uint8_t>(vf.index)}};
  }
  // Starts `name` on VF `index` through the engine, as the hooks would.
  void start(const std::string& name, int index, const char* mac) {
    std::string xml = guest(name, bed.vf(index), mac);
    libvirt.add_domain(xml);
    auto domain = DomainXml::parse(xml);
    ASSERT_TRUE(prepare_domain(name, *domain, bed.ctx()).ok());
    ASSERT_TRUE(start_domain(name, *domain, bed.ctx()).ok());
    libvirt.start(name);
  }

  EngineBed bed;
  FakeLibvirt libvirt;
};

TEST_F(GcTest, ReleasesTheVfsOfAStoppedDomainWhoseReleaseHookNeverRanAndLeavesRunningOnes) {
  auto before = bed.fingerprint();
  start("crashed", 1, "52:54:00:00:00:01");
  start("alive", 2, "52:54:00:00:00:02");
  const auto alive_vf2 = bed.netlink().pf("enp1s0")->vfs[2];
  // libvirtd died after QEMU stopped: no release hook ran for "crashed".
  libvirt.stop("crashed");

  GcReport report = collect_garbage(libvirt, bed.ctx());
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  ASSERT_EQ(report.changes.size(), 1u);
  EXPECT_THAT(report.changes[0], HasSubstr("'crashed' is not running"));
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].domain, "alive");
  auto after = bed.fingerprint();
  EXPECT_EQ(after["vf 1"], before["vf 1"]);                  // restored exactly
  EXPECT_EQ(bed.netlink().pf("enp1s0")->vfs[2], alive_vf2);  // untouched

  // A second gc has nothing to do.
  GcReport again = collect_garbage(libvirt, bed.ctx());
  EXPECT_TRUE(again.changes.empty());
  EXPECT_TRUE(again.problems.empty());
}

TEST_F(GcTest, DropsTheReservationsOfAnUndefinedDomainOnly) {
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    VF_TRY(txn.add_reservation(Reservation{bed.vf(3), "undefined", "provider"}));
    return txn.add_reservation(Reservation{bed.vf(4), "defined", "provider"});
  }));
  libvirt.add_domain("<domain type='kvm'><name>defined</name><devices></devices></domain>");

  GcReport report = collect_garbage(libvirt, bed.ctx());
  EXPECT_TRUE(report.problems.empty());
  ASSERT_EQ(report.changes.size(), 1u);
  EXPECT_THAT(report.changes[0], HasSubstr("'undefined' no longer exists"));
  auto left = bed.reservations();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].domain, "defined");  // a stopped, defined domain keeps its VF
}

TEST_F(GcTest, TheClaimsOfAQemuOutsideLibvirtAreLeftAlone) {
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_claim(Claim{bed.vf(1), "qmp:plain", "provider", "enp1s0", 1});
  }));
  GcReport report = collect_garbage(libvirt, bed.ctx());  // libvirt knows no "qmp:plain"
  EXPECT_TRUE(report.changes.empty());
  EXPECT_TRUE(report.problems.empty());
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].domain, "qmp:plain");
}

TEST_F(GcTest, ADomainLibvirtCannotAnswerForIsLeftAlone) {
  start("vm1", 1, "52:54:00:00:00:01");
  libvirt.domains.clear();  // gone from libvirt's view...
  class Broken final : public Libvirt {
   public:
    Result<std::vector<DomainSummary>> list_domains() override {
      return std::vector<DomainSummary>{};
    }
    Result<std::string> domain_xml(const std::string&, bool) override {
      return fail(ErrorKind::os, "no connection");
    }
    Result<bool> is_active(const std::string&) override {
      return fail(ErrorKind::os, "libvirt: internal error: client socket is closed");
    }
    Status define_xml(const std::string&) override { return fail(ErrorKind::os, "no"); }
    Status attach_device(const std::string&, const std::string&) override {
      return fail(ErrorKind::os, "no");
    }
    Result<bool> detach_device_and_wait(const std::string&, const std::string&,
                                        std::chrono::milliseconds) override {
      return fail(ErrorKind::os, "no");
    }
    Status shutdown(const std::string&) override { return fail(ErrorKind::os, "no"); }
    Status destroy(const std::string&) override { return fail(ErrorKind::os, "no"); }
    Status start_domain(const std::string&) override { return fail(ErrorKind::os, "no"); }
    Status set_config_metadata(const std::string&, const std::string&, const std::string&,
                               const std::optional<std::string>&) override {
      return fail(ErrorKind::os, "no");
    }
    Status set_live_metadata(const std::string&, const std::string&, const std::string&,
                             const std::optional<std::string>&) override {
      return fail(ErrorKind::os, "no");
    }
    Status migrate(const std::string&, const std::string&, MigrationKind,
                   const MigrationObserver&) override {
      return fail(ErrorKind::os, "no");
    }
  } broken;  // ...but libvirt errs instead of saying "no such domain"
  GcReport report = collect_garbage(broken, bed.ctx());
  EXPECT_TRUE(report.changes.empty());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(report.problems[0], HasSubstr("left alone"));
  EXPECT_EQ(bed.claims().size(), 1u);
}

}  // namespace
}  // namespace vfhook
