// vfctl migrate across two fake hosts: each has its own engine bed (sysfs, netlink, store) and
// its own fake libvirt; the destination's fake runs the real migrate hook (relocate_domain)
// on its bed. The sequences are an operator's: port add, start, then a cold move with a
// shutdown; a guest that ignores the shutdown; a destination that refuses; a start that fails
// there; a live move; a second move back.
#include "cli/migrate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/hotplug.h"
#include "cli/port_commands.h"
#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "engine/relocation.h"
#include "testing/engine_bed.h"
#include "testing/fake_libvirt.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using testing::FakeLibvirt;
using ::testing::HasSubstr;
using ::testing::Not;

const char* const kGuest =
    "<domain type='kvm'><name>web1</name><uuid>6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b</uuid>"
    "<devices><disk type='file' device='disk'><source file='/img/web1.qcow2'/>"
    "<target dev='vda' bus='virtio'/></disk></devices></domain>";
// The same guest with a virtio NIC on a bridge: its network while a VF port is detached.
const char* const kGuestWithVirtio =
    "<domain type='kvm'><name>web1</name><uuid>6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b</uuid>"
    "<devices><disk type='file' device='disk'><source file='/img/web1.qcow2'/>"
    "<target dev='vda' bus='virtio'/></disk>"
    "<interface type='bridge'><mac address='52:54:00:00:00:99'/><source bridge='br0'/>"
    "<model type='virtio'/><alias name='ua-net0'/></interface></devices></domain>";
const char* const kDest = "qemu+tcp://host-b/system";
const char* const kSource = "qemu+tcp://host-a/system";

// The destination's migrate hook: the engine's relocation on that host's bed, refusing with
// the refusals' text as the hook's stderr would.
FakeLibvirt::MigrateHook hook_on(EngineBed& bed) {
  return [&bed](const std::string& xml) -> Result<std::optional<std::string>> {
    VF_ASSIGN(domain, DomainXml::parse(xml));
    Relocation relocation = relocate_domain(domain.name(), domain, Arrival::migrate, bed.ctx());
    if (!relocation.outcome.ok())
      return fail(ErrorKind::conflict, "vfhook: " + outcome_text(relocation.outcome));
    return relocation.rewritten_xml;
  };
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Admin MACs as `vfctl vfs apply` leaves them: a release puts them back exactly.
    for (EngineBed* bed : {&source_bed, &dest_bed})
      for (VfState& vf : bed->netlink().pf("enp1s0")->vfs)
        vf.mac = MacAddress{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(vf.index)}};
    source.add_domain(kGuest);
    source.peers[kDest] = &dest;
    dest.peers[kSource] = &source;
    dest.migrate_hook = hook_on(dest_bed);
    source.migrate_hook = hook_on(source_bed);
    dest.start_hook = start_hook_on(dest_bed);
  }

  // libvirt's prepare and start hooks on a host (release after a failed one), as a starting
  // QEMU runs them: also for an incoming live migration.
  static std::function<Status(const std::string&)> start_hook_on(EngineBed& bed) {
    return [&bed](const std::string& xml) -> Status {
      VF_ASSIGN(domain, DomainXml::parse(xml));
      Outcome prepared = prepare_domain(domain.name(), domain, bed.ctx());
      Outcome started = prepared.ok() ? start_domain(domain.name(), domain, bed.ctx()) : prepared;
      if (started.ok()) return ok();
      (void)release_domain(domain.name(), bed.ctx());
      return fail(ErrorKind::conflict, "vfhook: " + outcome_text(started));
    };
  }

  // `vfctl port add web1 --pool provider --vlan 120` on host a (with `trust`: --trust on).
  PortAddition add_port_on_source(std::optional<bool> trust = std::nullopt) {
    PortSpec spec;
    spec.pool = "provider";
    spec.vlan = Vlan{120, 0, VlanProtocol::dot1q};
    spec.trust = trust;
    std::string left_behind;
    auto added = add_port("web1", spec, source, source_bed.ctx(), left_behind);
    EXPECT_TRUE(added) << added.error().message;
    return *added;
  }
  // libvirt's start on host a with its prepare and start hooks.
  void start_on_source() {
    auto domain = DomainXml::parse(source.domains.at("web1").persistent_xml);
    ASSERT_TRUE(domain);
    ASSERT_TRUE(prepare_domain("web1", *domain, source_bed.ctx()).ok());
    ASSERT_TRUE(start_domain("web1", *domain, source_bed.ctx()).ok());
    source.start("web1");
  }
  MigrationRequest request(MigrationKind kind = MigrationKind::offline) {
    MigrationRequest r;
    r.domain = "web1";
    r.dest_uri = kDest;
    r.kind = kind;
    r.shutdown_timeout = std::chrono::seconds(1);
    r.now_unix = 1'800'000'000;
    return r;
  }
  Result<MigrationReport> migrate(const MigrationRequest& r) {
    return migrate_domain_to(r, source, dest, source_bed.ctx(),
                             [this](const std::string& line) { progress.push_back(line); });
  }
  std::vector<VfPort> dest_ports() {
    return DomainXml::parse(dest.domains.at("web1").persistent_xml)->vf_ports();
  }

  EngineBed source_bed, dest_bed;
  FakeLibvirt source, dest;
  std::vector<std::string> progress;
};

TEST_F(MigrateTest, ColdMoveGivesAFreeVfThereKeepsMacAndVlanAndFreesTheSourceVf) {
  const PortAddition added = add_port_on_source();
  // On host b the VF with the same address is taken by another guest.
  VfRequest other{"db1", "provider", {}, {}};
  ASSERT_TRUE(reserve_vf(added.vf.vf, other, dest_bed.ctx()));

  auto moved = migrate(request());
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_TRUE(moved->left_behind.empty()) << moved->left_behind;
  EXPECT_TRUE(moved->started);
  EXPECT_FALSE(moved->shut_down);
  ASSERT_EQ(moved->ports.size(), 1u);
  EXPECT_EQ(moved->ports[0].from, added.vf.vf);
  ASSERT_TRUE(moved->ports[0].to);
  EXPECT_NE(*moved->ports[0].to, added.vf.vf);

  // Host a: the domain is gone, and so is its reservation.
  EXPECT_EQ(source.domains.count("web1"), 0u);
  EXPECT_TRUE(source_bed.reservations().empty());
  EXPECT_EQ(moved->dropped_reservations, std::vector<PciAddress>{added.vf.vf});
  // Host b: defined and running on the new VF, reserved there, same MAC and VLAN and alias.
  ASSERT_EQ(dest_ports().size(), 1u);
  const VfPort port = dest_ports()[0];
  EXPECT_EQ(port.host, moved->ports[0].to);
  EXPECT_EQ(port.mac, added.mac);
  EXPECT_EQ(port.vlan_tag, 120);
  EXPECT_EQ(port.alias, added.alias);
  EXPECT_TRUE(dest.domains.at("web1").live_xml);
  bool reserved_there = false;
  for (const Reservation& r : dest_bed.reservations())
    reserved_there |= r.domain == "web1" && r.vf == *moved->ports[0].to;
  EXPECT_TRUE(reserved_there);
  // The cold-move marker does not travel on.
  EXPECT_THAT(dest.domains.at("web1").persistent_xml, Not(HasSubstr("urn:vfhook:move:1")));
  EXPECT_THAT(migration_text(*moved),
              HasSubstr(added.vf.vf.to_string() + " here -> " + moved->ports[0].to->to_string()));
  EXPECT_THAT(source.calls,
              ::testing::ElementsAre("metadata web1 urn:vfhook:move:1 set",
                                     std::string("migrate web1 ") + kDest + " offline"));
  EXPECT_THAT(dest.calls, ::testing::Contains("start web1"));

  // The journal: host b's hook logged the move from a's VF, vfctl on a the migration.
  const std::vector<LogEntry> arrived = dest_bed.log().with_outcome("moved");
  ASSERT_EQ(arrived.size(), 1u);
  EXPECT_EQ(arrived[0].field(log_field::from_pci_address), added.vf.vf.to_string());
  EXPECT_EQ(arrived[0].field(log_field::pci_address), moved->ports[0].to->to_string());
  const std::vector<LogEntry> migrated = source_bed.log().with_outcome("migrated");
  ASSERT_EQ(migrated.size(), 1u);
  EXPECT_EQ(migrated[0].field(log_field::domain), "web1");
  EXPECT_EQ(migrated[0].field(log_field::destination), kDest);
  EXPECT_THAT(migrated[0].message,
              HasSubstr(added.vf.vf.to_string() + " -> " + moved->ports[0].to->to_string()));
}

TEST_F(MigrateTest, ARunningGuestIsRefusedWithoutShutdownAndNothingChanges) {
  const PortAddition added = add_port_on_source();
  start_on_source();
  const auto before = source_bed.fingerprint();
  auto moved = migrate(request());
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().kind, ErrorKind::conflict);
  EXPECT_THAT(moved.error().message, HasSubstr("--shutdown"));
  // --live is offered as it works today: a virtio interface is enough, failover is not needed.
  EXPECT_THAT(moved.error().message,
              HasSubstr("or move it live with --live (the guest needs a virtio interface, or "
                        "virtio failover on its VF ports)"));
  EXPECT_TRUE(source.calls.empty());
  EXPECT_TRUE(source.domains.at("web1").live_xml);
  EXPECT_EQ(source_bed.claims().size(), 1u);
  EXPECT_EQ(source_bed.reservations().size(), 1u);
  EXPECT_EQ(source_bed.fingerprint(), before);
  EXPECT_TRUE(dest.domains.empty());
}

TEST_F(MigrateTest, ShutdownThenMoveAndBackAgain) {
  const auto before = source_bed.fingerprint();
  const PortAddition added = add_port_on_source();
  start_on_source();
  MigrationRequest r = request();
  r.shutdown = true;
  auto moved = migrate(r);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_TRUE(moved->shut_down);
  EXPECT_FALSE(moved->forced_off);
  // The fake's shutdown runs no release hook: vfctl released what the stopped guest held.
  EXPECT_TRUE(source_bed.claims().empty());
  EXPECT_TRUE(source_bed.reservations().empty());
  EXPECT_EQ(source_bed.fingerprint(), before);  // the VF's driver and settings as they were

  // The move back, run from host b (its libvirt is now the source), with the guest stopped.
  dest.stop("web1");
  MigrationRequest back = request();
  back.dest_uri = kSource;
  auto returned = migrate_domain_to(back, dest, source, dest_bed.ctx(), [](const std::string&) {});
  ASSERT_TRUE(returned) << returned.error().message;
  EXPECT_TRUE(dest.domains.empty());
  EXPECT_TRUE(dest_bed.reservations().empty());
  ASSERT_EQ(returned->ports.size(), 1u);
  // Host a's original VF was free again: the hook keeps a free address it was given.
  EXPECT_EQ(returned->ports[0].to, added.vf.vf);
  EXPECT_EQ(source_bed.reservations().size(), 1u);
}

TEST_F(MigrateTest, AGuestThatIgnoresTheShutdownIsNotMovedUnlessForcedOff) {
  add_port_on_source();
  start_on_source();
  source.guest_ignores_shutdown = true;
  MigrationRequest r = request();
  r.shutdown = true;
  auto refused = migrate(r);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("did not shut down within 1 s"));
  EXPECT_THAT(refused.error().message, HasSubstr("--force-off"));
  EXPECT_TRUE(source.domains.at("web1").live_xml);
  EXPECT_TRUE(dest.domains.empty());

  r.force_off = true;
  auto moved = migrate(r);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_TRUE(moved->forced_off);
  EXPECT_THAT(source.calls, ::testing::Contains("destroy web1"));
  EXPECT_TRUE(dest.domains.at("web1").live_xml);
}

TEST_F(MigrateTest, ADestinationThatRefusesLeavesTheDomainHereUnmarkedAndReserved) {
  const PortAddition added = add_port_on_source();
  // Host b's pool allows VLANs 200-299 only.
  dest_bed.set_config("[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"200-299\"]\n");
  const std::string definition = source.domains.at("web1").persistent_xml;
  auto moved = migrate(request());
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("Hook script execution failed"));
  EXPECT_THAT(moved.error().message, HasSubstr("VLAN 120"));
  EXPECT_THAT(moved.error().message, HasSubstr("still defined on this host"));
  EXPECT_EQ(source.domains.at("web1").persistent_xml, definition);  // marker taken off again
  EXPECT_EQ(source_bed.reservations().size(), 1u);
  EXPECT_TRUE(dest.domains.empty());
  EXPECT_TRUE(dest_bed.reservations().empty());
  const std::vector<LogEntry> failed = source_bed.log().with_outcome("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].field(log_field::destination), kDest);
  EXPECT_THAT(failed[0].message, HasSubstr("VLAN 120"));
  EXPECT_TRUE(source_bed.log().with_outcome("migrated").empty());
}

TEST_F(MigrateTest, AStartThatFailsThereLeavesItDefinedThereAndSaysHowToStartIt) {
  add_port_on_source();
  dest.fail_next_start = Error{ErrorKind::os, "Hook script execution failed: no VF", 0};
  auto moved = migrate(request());
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_FALSE(moved->started);
  EXPECT_THAT(moved->left_behind, HasSubstr(std::string("virsh -c ") + kDest + " start web1"));
  EXPECT_EQ(dest.domains.count("web1"), 1u);
  EXPECT_FALSE(dest.domains.at("web1").live_xml);
  EXPECT_TRUE(source.domains.empty());
}

TEST_F(MigrateTest, ANameTakenOnTheDestinationIsRefusedBeforeTheGuestIsShutDown) {
  add_port_on_source();
  start_on_source();
  dest.add_domain(kGuest);
  MigrationRequest r = request();
  r.shutdown = true;
  auto moved = migrate(r);
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("already exists"));
  EXPECT_TRUE(source.calls.empty());
  EXPECT_TRUE(source.domains.at("web1").live_xml);
}

// The VF port has no virtio failover, but the guest has a virtio NIC: vfctl detaches the port
// (its VF restored here), migrates live with the re-attach marker, and the destination's hooks
// choose, reserve, claim, bind and configure a VF there, which vfctl attaches with the same MAC,
// VLAN and alias.
TEST_F(MigrateTest, LiveMoveDetachesAPortWithoutFailoverAndReattachesItThere) {
  source.domains.clear();
  source.add_domain(kGuestWithVirtio);
  const auto source_before = source_bed.fingerprint();
  const PortAddition added = add_port_on_source(true);
  start_on_source();
  VfRequest other{"db1", "provider", {}, {}};
  ASSERT_TRUE(reserve_vf(added.vf.vf, other, dest_bed.ctx()));  // that address is taken there
  const auto dest_before = dest_bed.fingerprint();

  auto moved = migrate(request(MigrationKind::live));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_TRUE(moved->left_behind.empty()) << moved->left_behind;
  EXPECT_THAT(source.calls, ::testing::ElementsAre("live metadata web1 urn:vfhook:move:1 set",
                                                   "detach web1 " + added.alias,
                                                   std::string("migrate web1 ") + kDest + " live"));
  // Host a: the VF left the guest and was restored; no claim, no reservation is left.
  EXPECT_EQ(source.domains.count("web1"), 0u);
  EXPECT_TRUE(source_bed.claims().empty());
  EXPECT_TRUE(source_bed.reservations().empty());
  EXPECT_EQ(source_bed.fingerprint(), source_before);

  // Host b: the port runs on a new VF with the same MAC, VLAN and alias.
  ASSERT_EQ(moved->ports.size(), 1u);
  ASSERT_TRUE(moved->ports[0].to);
  const PciAddress vf = *moved->ports[0].to;
  EXPECT_NE(vf, added.vf.vf);
  auto live = DomainXml::parse(*dest.domains.at("web1").live_xml);
  ASSERT_TRUE(live);
  ASSERT_EQ(live->vf_ports().size(), 1u);
  const VfPort& port = live->vf_ports()[0];
  EXPECT_EQ(port.host, vf);
  EXPECT_EQ(port.mac, added.mac);
  EXPECT_EQ(port.vlan_tag, 120);
  EXPECT_EQ(port.alias, added.alias);
  EXPECT_FALSE(port.managed);
  EXPECT_THAT(dest.calls, ::testing::ElementsAre("attach web1",
                                                 "live metadata web1 urn:vfhook:move:1 removed"));
  // ...claimed and reserved for web1, on vfio-pci, with what libvirt cannot set (trust on).
  ASSERT_EQ(dest_bed.claims().size(), 1u);
  EXPECT_EQ(dest_bed.claims()[0].vf, vf);
  EXPECT_EQ(dest_bed.claims()[0].domain, "web1");
  bool reserved_there = false;
  for (const Reservation& r : dest_bed.reservations())
    reserved_there |= r.domain == "web1" && r.vf == vf;
  EXPECT_TRUE(reserved_there);
  EXPECT_EQ(dest_bed.driver(vf), std::optional<std::string>("vfio-pci"));
  int index = -1;
  for (int i = 0; i < 7; ++i)
    if (dest_bed.vf(i) == vf) index = i;
  ASSERT_GE(index, 0);
  EXPECT_EQ(dest_bed.netlink().pf("enp1s0")->vfs[static_cast<size_t>(index)].trust, true);
  // The marker does not stay, and the definition there names the new VF.
  EXPECT_THAT(*dest.domains.at("web1").live_xml, Not(HasSubstr("urn:vfhook:move:1")));
  auto config = DomainXml::parse(dest.domains.at("web1").persistent_xml);
  ASSERT_TRUE(config);
  ASSERT_EQ(config->vf_ports().size(), 1u);
  EXPECT_EQ(config->vf_ports()[0].host, vf);

  // The guest stops there: libvirt's release hook restores the VF from its snapshot.
  const Outcome released = release_domain("web1", dest_bed.ctx());
  EXPECT_TRUE(released.ok());
  EXPECT_TRUE(dest_bed.claims().empty());
  EXPECT_EQ(dest_bed.fingerprint(), dest_before);
}

TEST_F(MigrateTest, ALiveMoveWithoutAVirtioPathIsRefusedAndNothingChanges) {
  const PortAddition added = add_port_on_source();
  start_on_source();
  const auto before = source_bed.fingerprint();
  const std::string live_xml = *source.domains.at("web1").live_xml;
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().kind, ErrorKind::policy);
  EXPECT_THAT(moved.error().message, HasSubstr("no virtio interface"));
  EXPECT_THAT(moved.error().message, HasSubstr("still runs on this host"));
  EXPECT_TRUE(source.calls.empty());
  EXPECT_EQ(*source.domains.at("web1").live_xml, live_xml);
  EXPECT_EQ(source_bed.claims().size(), 1u);
  EXPECT_EQ(source_bed.reservations().size(), 1u);
  EXPECT_EQ(source_bed.fingerprint(), before);
  EXPECT_TRUE(dest.domains.empty());
}

TEST_F(MigrateTest, AGuestThatKeepsTheDeviceStaysHereWithItAndNothingMoves) {
  source.domains.clear();
  source.add_domain(kGuestWithVirtio);
  const PortAddition added = add_port_on_source();
  start_on_source();
  const auto before = source_bed.fingerprint();
  const std::string live_xml = *source.domains.at("web1").live_xml;
  source.guest_keeps_devices = true;
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("did not release " + added.alias));
  EXPECT_THAT(moved.error().message, HasSubstr("still runs on this host"));
  EXPECT_THAT(source.calls, ::testing::ElementsAre("live metadata web1 urn:vfhook:move:1 set",
                                                   "detach web1 " + added.alias,
                                                   "live metadata web1 urn:vfhook:move:1 removed"));
  EXPECT_EQ(*source.domains.at("web1").live_xml, live_xml);  // marker off, device in
  EXPECT_EQ(source_bed.claims().size(), 1u);
  EXPECT_EQ(source_bed.fingerprint(), before);
  EXPECT_TRUE(dest.domains.empty());
}

TEST_F(MigrateTest, ADestinationThatRefusesALiveMoveGetsTheVfReattachedHere) {
  source.domains.clear();
  source.add_domain(kGuestWithVirtio);
  const PortAddition added = add_port_on_source(true);
  start_on_source();
  const auto before = source_bed.fingerprint();
  // Host b's pool allows VLANs 200-299 only.
  dest_bed.set_config("[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"200-299\"]\n");
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("Hook script execution failed"));
  EXPECT_THAT(moved.error().message, HasSubstr("VLAN 120"));
  EXPECT_THAT(moved.error().message,
              HasSubstr("still runs on this host with its VFs (re-attached)"));
  // Host a: the guest has its port again, on the same VF, claimed and configured as before.
  auto live = DomainXml::parse(*source.domains.at("web1").live_xml);
  ASSERT_TRUE(live);
  ASSERT_EQ(live->vf_ports().size(), 1u);
  EXPECT_EQ(live->vf_ports()[0].host, added.vf.vf);
  EXPECT_EQ(live->vf_ports()[0].mac, added.mac);
  EXPECT_EQ(live->vf_ports()[0].alias, added.alias);
  EXPECT_THAT(*source.domains.at("web1").live_xml, Not(HasSubstr("urn:vfhook:move:1")));
  ASSERT_EQ(source_bed.claims().size(), 1u);
  EXPECT_EQ(source_bed.claims()[0].vf, added.vf.vf);
  EXPECT_EQ(source_bed.reservations().size(), 1u);
  EXPECT_EQ(source_bed.fingerprint(), before);
  EXPECT_TRUE(dest.domains.empty());
  EXPECT_TRUE(dest_bed.reservations().empty());
  EXPECT_TRUE(dest_bed.claims().empty());
}

TEST_F(MigrateTest, AnAttachThatFailsThereLeavesTheGuestOnItsVirtioPathAndSaysWhatToRun) {
  source.domains.clear();
  source.add_domain(kGuestWithVirtio);
  const PortAddition added = add_port_on_source();
  start_on_source();
  dest.fail_next_attach = Error{ErrorKind::os, "internal error: unable to execute QEMU command", 0};
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_THAT(moved->left_behind, HasSubstr(added.alias + " is not re-attached"));
  EXPECT_THAT(moved->left_behind, HasSubstr("unable to execute QEMU command"));
  EXPECT_THAT(moved->left_behind,
              HasSubstr("`vfctl attach web1 --pool provider --alias " + added.alias + " --mac " +
                        added.mac.to_string() + " --vlan 120` on " + kDest));
  EXPECT_TRUE(dest.domains.at("web1").live_xml);
  EXPECT_TRUE(DomainXml::parse(*dest.domains.at("web1").live_xml)->vf_ports().empty());
  EXPECT_TRUE(source.domains.empty());
  EXPECT_TRUE(source_bed.claims().empty());
}

TEST_F(MigrateTest, LiveMoveOfAStoppedDomainIsRefused) {
  add_port_on_source();
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("--cold"));
  EXPECT_TRUE(source.calls.empty());
}

TEST_F(MigrateTest, ALiveMoveTheSourceRefusesKeepsTheGuestRunningHere) {
  source.domains.clear();
  source.add_domain(kGuestWithVirtio);
  add_port_on_source();
  start_on_source();
  source.peers.clear();  // libvirt cannot reach the destination
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("still runs on this host"));
  EXPECT_THAT(moved.error().message, HasSubstr("unable to connect"));
  EXPECT_TRUE(source.domains.at("web1").live_xml);
  EXPECT_EQ(DomainXml::parse(*source.domains.at("web1").live_xml)->vf_ports().size(), 1u);
  EXPECT_EQ(source_bed.claims().size(), 1u);
  EXPECT_EQ(source_bed.reservations().size(), 1u);
}

}  // namespace
}  // namespace vfhook
