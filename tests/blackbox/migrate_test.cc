// The migrate and restore hooks through the real binary, as libvirt runs them on the destination:
// the source's definition on stdin, a rewritten one on stdout only when a VF port moved, and a
// refusal (exit 1, stderr) that aborts the migration with nothing changed here.
#include <algorithm>

#include "tests/blackbox/hook_test.h"
#include "xml/domain_xml.h"

namespace vfhook::blackbox {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// vm1 as its source host defines it: one hostdev interface on the source's VF 0000:81:10.2
// (no such device here), VLAN 120, an alias and a port record with an IP.
std::string arriving_domain(const std::string& pool = "provider", int vlan = 120,
                            const PciAddress& source = pci("0000:81:10.2")) {
  return domain_xml(
      "vm1", interface_hostdev_xml({mac("52:54:00:aa:00:01"), source, false, vlan, "ua-net0"}),
      port_record_xml(R"(alias="ua-net0" mac="52:54:00:aa:00:01" pool=")" + pool + R"(" vlan=")" +
                      std::to_string(vlan) + R"(" ip="192.0.2.10")"));
}

std::string with_host(const std::string& xml, const PciAddress& to) {
  auto doc = DomainXml::parse(xml);
  EXPECT_TRUE(doc);
  EXPECT_TRUE(doc->set_host_source(0, to));
  return doc->serialize();
}

TEST_F(HookTest, MigratePrintsTheDefinitionWithALocalVfAndReservesIt) {
  const std::string xml = arriving_domain();
  HookResult migrated = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  EXPECT_EQ(migrated.err, "");
  ASSERT_EQ(bed.reservations().size(), 1u);
  const Reservation reserved = bed.reservations()[0];
  EXPECT_EQ(reserved.domain, "vm1");
  EXPECT_EQ(reserved.pool, "provider");
  EXPECT_NE(std::find(vfs.begin(), vfs.end(), reserved.vf), vfs.end());
  // Byte for byte the incoming definition with that one address changed.
  EXPECT_EQ(migrated.out, with_host(xml, reserved.vf));
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_THAT(bed.requests(), IsEmpty());  // no VF was touched

  // libvirt then starts the domain here with what the hook printed.
  HookResult prepared = bed.hook("vm1", "prepare", migrated.out);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, reserved.vf);
}

TEST_F(HookTest, ASecondMigrateOfTheSameDomainPrintsTheSameDefinition) {
  const std::string xml = arriving_domain();
  HookResult first = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(first.exit_code, 0) << explain(first);
  HookResult second = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(second.exit_code, 0) << explain(second);
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(bed.reservations().size(), 1u);
}

TEST_F(HookTest, MigrateToAHostWithoutThePoolIsRefusedWithNothingChanged) {
  const auto before = bed.fingerprint();
  HookResult migrated = bed.hook("vm1", "migrate", arriving_domain("storage"));
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("vfhook refused the migration of domain 'vm1' to this host"));
  EXPECT_THAT(migrated.err, HasSubstr("pool 'storage' (VLAN 120)"));
  EXPECT_THAT(migrated.err, HasSubstr("Nothing was changed on the host."));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, MigrateIsRefusedWhenThePoolIsFullNamingTheHolders) {
  for (int i = 0; i < 4; ++i) bed.add_reservation({vfs[i], "db1", "provider"});
  const auto before = bed.fingerprint();
  HookResult migrated = bed.hook("vm1", "migrate", arriving_domain());
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("pool 'provider' has no free VF"));
  EXPECT_THAT(migrated.err, HasSubstr("domain 'db1' (reserved while shut off, 4 VFs)"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, MigrateIsRefusedForAVlanThisHostDoesNotAllow) {
  HookResult migrated = bed.hook("vm1", "migrate", arriving_domain("provider", 50));
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("VLAN 50 is reserved for the host's own bridges"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST_F(HookTest, RestoreOnTheSameHostKeepsItsVfAndPrintsNothing) {
  bed.add_reservation({vfs[2], "vm1", "provider"});
  HookResult restored = bed.hook("vm1", "restore", arriving_domain("provider", 120, vfs[2]));
  ASSERT_EQ(restored.exit_code, 0) << explain(restored);
  EXPECT_EQ(restored.out, "");  // libvirt keeps its own definition
  EXPECT_EQ(restored.err, "");
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{vfs[2], "vm1", "provider"}}));
}

// The fast path: a domain without VF ports never loads the core, so even a config the core
// would refuse does not stop its migration.
TEST_F(HookTest, ADomainWithoutVfPortsMigratesUntouchedOnTheFastPath) {
  bed.write_config("this is not TOML [");
  const std::string xml = domain_xml("vm1",
                                     "<interface type='bridge'><mac address='52:54:00:aa:00:05'/>"
                                     "<source bridge='br0'/></interface>\n");
  for (const char* op : {"migrate", "restore"}) {
    HookResult r = bed.hook("vm1", op, xml);
    EXPECT_EQ(r.exit_code, 0) << op << ": " << explain(r);
    EXPECT_EQ(r.out, "") << op;
    EXPECT_EQ(r.err, "") << op;
  }
  // A VF domain with that config is refused: it cannot be given a VF here.
  HookResult vf = bed.hook("vm1", "migrate", arriving_domain());
  EXPECT_EQ(vf.exit_code, 1) << explain(vf);
  EXPECT_EQ(vf.out, "");
  EXPECT_THAT(vf.err, HasSubstr("vfhook cannot use its config"));
}

}  // namespace
}  // namespace vfhook::blackbox
