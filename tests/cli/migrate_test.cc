// vfctl migrate across two fake hosts: each has its own engine bed (sysfs, netlink, store) and
// its own fake libvirt; the destination's fake runs the real migrate hook (relocate_domain)
// on its bed. The sequences are an operator's: port add, start, then a cold move with a
// shutdown; a guest that ignores the shutdown; a destination that refuses; a start that fails
// there; a live move; a second move back.
#include "cli/migrate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>

#include "cli/hotplug.h"
#include "cli/port_commands.h"
#include "engine/decision_log.h"
#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "engine/relocation.h"
#include "engine/vf_restore.h"
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

// A guest with a virtio-failover pair: the virtio standby ua-virtio0 and the VF port ua-sriov0
// on `vf` (VLAN 120, pool provider), one MAC, the VF behind a root port of its own.
std::string teamed_guest(const PciAddress& vf) {
  char source[128];
  std::snprintf(source, sizeof source,
                "<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' "
                "function='0x%x'/>",
                vf.bus, vf.slot, vf.function);
  return std::string(
             "<domain type='kvm'><name>web1</name>"
             "<uuid>6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b</uuid><metadata><vfhook:ports "
             "xmlns:vfhook='urn:vfhook:ports:1'><vfhook:port alias='ua-sriov0' "
             "mac='52:54:00:aa:00:01' pool='provider' vlan='120'/></vfhook:ports></metadata>"
             "<devices><controller type='pci' index='8' model='pcie-root-port'>"
             "<alias name='pci.8'/><address type='pci' domain='0x0000' bus='0x00' slot='0x03' "
             "function='0x0'/></controller><interface type='bridge'>"
             "<mac address='52:54:00:aa:00:01'/><source bridge='br0'/><model type='virtio'/>"
             "<teaming type='persistent'/><alias name='ua-virtio0'/></interface>"
             "<interface type='hostdev' managed='no'><mac address='52:54:00:aa:00:01'/>"
             "<source>") +
         source +
         "</source><vlan><tag id='120'/></vlan><teaming type='transient' "
         "persistent='ua-virtio0'/><alias name='ua-sriov0'/><address type='pci' "
         "domain='0x0000' bus='0x08' slot='0x00' function='0x0'/></interface></devices>"
         "</domain>";
}

// A live move with virtio failover, as libvirt and QEMU run it: the destination's hook picks a
// VF; QEMU reports setup, wait-unplug (the guest is asked to let go of its VF), active (it has:
// memory is copied now), completed.
class TeamedMigrateTest : public MigrateTest {
 protected:
  void SetUp() override {
    MigrateTest::SetUp();
    for (EngineBed* bed : {&source_bed, &dest_bed})
      bed->set_config(std::string(testing::kProviderPoolToml) + "failover = true\n");
    source.domains.clear();
    source.add_domain(teamed_guest(source_bed.vf(2)));
    before_mac = source_vf().mac;
    start_on_source();
    // What libvirt sets on an <interface type='hostdev'>'s VF at start.
    source_bed.netlink().pf("enp1s0")->vfs.at(2).mac = *MacAddress::parse("52:54:00:aa:00:01");
    source_bed.netlink().pf("enp1s0")->vfs.at(2).vlan.id = 120;
    // The source VF's admin MAC at each state QEMU reports.
    source.after_migration_status = [this](QemuMigrationStatus status) {
      macs.push_back(std::string(to_string(status)) + " " + source_vf().mac.to_string());
    };
  }
  const VfState& source_vf() { return source_bed.netlink().pf("enp1s0")->vfs.at(2); }

  MacAddress before_mac;
  std::vector<std::string> macs;
  const std::string idle = idle_mac_for(source_bed.vf(2)).to_string();
};

// The guest has let go of its VF once QEMU copies memory: from then on the VF here carries an
// idle MAC, so that the NIC no longer delivers the guest's frames to it; the destination gives
// the port a VF of its own with the same MAC.
TEST_F(TeamedMigrateTest, TheSourceVfIsParkedOnceTheGuestLetGoOfIt) {
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_TRUE(moved->left_behind.empty()) << moved->left_behind;
  EXPECT_THAT(macs,
              ::testing::ElementsAre("setup 52:54:00:aa:00:01", "wait-unplug 52:54:00:aa:00:01",
                                     "active " + idle, "completed " + idle));
  EXPECT_THAT(progress, ::testing::Contains(HasSubstr("the guest let go of VF " +
                                                      source_bed.vf(2).to_string() +
                                                      " (QEMU copies its memory now): parked "
                                                      "with MAC " +
                                                      idle)));
  EXPECT_EQ(source_bed.log().with_outcome(log_outcome::parked).size(), 1u);
  // Here: the guest is gone, the VF has its MAC from before the claim again.
  EXPECT_TRUE(source_bed.claims().empty());
  EXPECT_EQ(source_vf().mac, before_mac);
  // There: a VF of the pool, claimed for web1 with the guest's MAC.
  ASSERT_EQ(dest_bed.claims().size(), 1u);
  EXPECT_EQ(dest_bed.claims()[0].domain, "web1");
  EXPECT_EQ(dest_bed.claims()[0].mac->to_string(), "52:54:00:aa:00:01");
}

// QEMU fails the migration after the guest let go of its VF: QEMU plugs it back into the guest,
// so the MAC is back at once, on the failed state; the guest keeps running here, claimed as it
// was, and the destination's QEMU ended (its release hook freed what it had claimed there).
TEST_F(TeamedMigrateTest, AMigrationQemuFailsGivesTheVfItsMacBackBeforeTheGuestGetsIt) {
  source.fail_next_migration_in_qemu =
      Error{ErrorKind::os, "operation failed: job 'migration out' failed unexpectedly", 0};
  dest.release_hook = [this](const std::string& name) {
    (void)release_domain(name, dest_bed.ctx());
  };
  const auto claims = source_bed.claims();
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message, HasSubstr("failed unexpectedly"));
  EXPECT_THAT(moved.error().message, HasSubstr("still runs on this host with its VFs"));
  EXPECT_THAT(moved.error().message, Not(HasSubstr("could not all get")));
  EXPECT_THAT(macs,
              ::testing::ElementsAre("setup 52:54:00:aa:00:01", "wait-unplug 52:54:00:aa:00:01",
                                     "active " + idle, "failed 52:54:00:aa:00:01"));
  EXPECT_THAT(progress, ::testing::Contains(HasSubstr("has MAC 52:54:00:aa:00:01 again")));
  EXPECT_EQ(source_vf().mac.to_string(), "52:54:00:aa:00:01");
  EXPECT_EQ(source_vf().vlan.id, 120);
  EXPECT_EQ(source_bed.claims(), claims);
  EXPECT_TRUE(source.domains.at("web1").live_xml);
  EXPECT_TRUE(dest_bed.claims().empty());
}

// libvirt gave up without QEMU reporting failed (the connection to the destination broke, say):
// the MAC goes back when the migration call returns.
TEST_F(TeamedMigrateTest, AFailureWithoutAFailedStateStillGivesTheMacBack) {
  source.migration_statuses = {QemuMigrationStatus::setup, QemuMigrationStatus::active};
  source.fail_next_migration_in_qemu = Error{ErrorKind::os, "End of file while reading data", 0};
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(macs, ::testing::ElementsAre("setup 52:54:00:aa:00:01", "active " + idle));
  EXPECT_EQ(source_vf().mac.to_string(), "52:54:00:aa:00:01");
  EXPECT_EQ(source_bed.log().with_outcome(log_outcome::unparked).size(), 1u);
}

// The MAC could not be put back: the error says what the guest is left with.
TEST_F(TeamedMigrateTest, AMacThatCannotGoBackIsInTheError) {
  source.fail_next_migration_in_qemu = Error{ErrorKind::os, "migration failed", 0};
  source.after_migration_status = [this](QemuMigrationStatus status) {
    if (status == QemuMigrationStatus::active)
      source_bed.netlink().refuse(VfAttribute::mac, EBUSY, "enp1s0", 2);
  };
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message,
              HasSubstr("Its failover VFs could not all get the guest's MAC back (PF enp1s0 VF 2"));
  EXPECT_THAT(moved.error().message, HasSubstr("the guest stays on its virtio standby"));
  EXPECT_EQ(source_vf().mac.to_string(), idle);
  EXPECT_EQ(source_bed.claims().size(), 1u);  // kept: release restores it when the guest stops
}

// A libvirt that passes on no QEMU event: the move still goes through, and says what it cost.
TEST_F(TeamedMigrateTest, WithoutQemusStatesTheMoveGoesThroughAndSaysTheVfKeptTheMac) {
  source.migration_statuses.clear();
  auto moved = migrate(request(MigrationKind::live));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_THAT(macs, ::testing::IsEmpty());
  EXPECT_THAT(progress, ::testing::Contains(HasSubstr("did not reach vfctl")));
  EXPECT_TRUE(source_bed.log().with_outcome(log_outcome::parked).empty());
  EXPECT_EQ(source_vf().mac, before_mac);
}

}  // namespace
}  // namespace vfhook
