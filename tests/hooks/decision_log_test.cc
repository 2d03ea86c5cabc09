// The journal entries of a guest's story, as the hook writes them: what the engine logs as it
// decides (claimed, restored, undo-failed) and what hooks/report.cc's log_decisions adds for an
// Outcome (refused, failed, problem), on the engine bed's memory logger. Each entry must carry
// the fields `journalctl -t vfhook DOMAIN=vm1` and friends select on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/operations.h"
#include "engine/undo_stack.h"
#include "hooks/report.h"
#include "testing/engine_bed.h"
#include "testing/memory_logger.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A domain with one managed='no' hostdev interface on VF `vf` of the bed's PF (enp1s0), in
// pool 'provider' (VLANs 100-199).
DomainXml one_port_domain(const std::string& name, const PciAddress& vf, const char* mac,
                          int vlan) {
  char fn[8];
  std::snprintf(fn, sizeof fn, "0x%x", vf.function);
  char slot[8];
  std::snprintf(slot, sizeof slot, "0x%02x", vf.slot);
  auto parsed =
      DomainXml::parse("<domain type='kvm'><name>" + name +
                       "</name><metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'>"
                       "<vfhook:port mac='" +
                       mac + "' pool='provider' vlan='" + std::to_string(vlan) +
                       "'/></vfhook:ports></metadata><devices>"
                       "<interface type='hostdev' managed='no'><mac address='" +
                       mac + "'/><source><address type='pci' domain='0x0000' bus='0x01' slot='" +
                       slot + "' function='" + fn + "'/></source><vlan><tag id='" +
                       std::to_string(vlan) + "'/></vlan></interface></devices></domain>");
  EXPECT_TRUE(parsed) << parsed.error().message;
  return std::move(*parsed);
}

// The fields of a VF entry that find it in the journal.
void expect_vf_fields(const LogEntry& entry, const std::string& domain, const PciAddress& vf,
                      int index) {
  EXPECT_EQ(entry.field(log_field::domain), domain) << entry.message;
  EXPECT_EQ(entry.field(log_field::pci_address), vf.to_string()) << entry.message;
  EXPECT_EQ(entry.field(log_field::pf), "enp1s0") << entry.message;
  EXPECT_EQ(entry.field(log_field::vf_index), std::to_string(index)) << entry.message;
  EXPECT_EQ(entry.field(log_field::pool), "provider") << entry.message;
}

// What the hook does for each event: the operation, then its decisions, through the logger
// that adds DOMAIN and EVENT (hooks/core_run.cc).
Outcome run_event(EngineBed& bed, HookOp op, const std::string& domain,
                  const DomainXml* xml = nullptr) {
  ContextLogger log(bed.log(), {{"DOMAIN", domain}, {"EVENT", std::string(to_string(op))}});
  EngineContext ctx{bed.ctx().config,
                    bed.ctx().sysfs,
                    bed.ctx().devfs,
                    bed.ctx().netlink,
                    bed.ctx().store,
                    bed.ctx().clock,
                    log};
  Outcome outcome;
  if (op == HookOp::prepare) outcome = prepare_domain(domain, *xml, ctx);
  if (op == HookOp::start) outcome = start_domain(domain, *xml, ctx);
  if (op == HookOp::release) outcome = release_domain(domain, ctx);
  log_decisions(log, op, domain, outcome);
  return outcome;
}

TEST(DecisionLog, AStartThenStopLogsOneClaimAndOneRestoreWithTheirFields) {
  EngineBed bed;
  bed.netlink().pf("enp1s0")->vfs[2].mac = *MacAddress::parse("02:00:00:00:01:02");
  const DomainXml domain = one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120);

  ASSERT_TRUE(run_event(bed, HookOp::prepare, "vm1", &domain).ok());
  ASSERT_TRUE(run_event(bed, HookOp::start, "vm1", &domain).ok());
  ASSERT_TRUE(run_event(bed, HookOp::release, "vm1").ok());

  const std::vector<LogEntry> claimed = bed.log().with_outcome("claimed");
  ASSERT_EQ(claimed.size(), 1u);  // at prepare; start finds it claimed and claims nothing
  expect_vf_fields(claimed[0], "vm1", bed.vf(2), 2);
  EXPECT_EQ(claimed[0].field(log_field::event), "prepare");
  EXPECT_EQ(claimed[0].level, LogLevel::info);
  EXPECT_THAT(claimed[0].message, HasSubstr("claimed"));
  EXPECT_THAT(claimed[0].message, HasSubstr(bed.vf(2).to_string()));

  const std::vector<LogEntry> restored = bed.log().with_outcome("restored");
  ASSERT_EQ(restored.size(), 1u);
  expect_vf_fields(restored[0], "vm1", bed.vf(2), 2);
  EXPECT_EQ(restored[0].field(log_field::event), "release");

  // Claimed before restored; nothing was refused or failed; every entry of the story names
  // the domain and its event, so DOMAIN=vm1 finds all of them.
  size_t claimed_at = 0, restored_at = 0;
  for (size_t i = 0; i < bed.log().entries.size(); ++i) {
    const LogEntry& entry = bed.log().entries[i];
    EXPECT_EQ(entry.field(log_field::domain), "vm1") << entry.message;
    EXPECT_TRUE(entry.field(log_field::event)) << entry.message;
    if (entry.field(log_field::outcome) == "claimed") claimed_at = i;
    if (entry.field(log_field::outcome) == "restored") restored_at = i;
  }
  EXPECT_LT(claimed_at, restored_at);
  EXPECT_THAT(bed.log().with_outcome("refused"), IsEmpty());
  EXPECT_THAT(bed.log().with_outcome("failed"), IsEmpty());
}

TEST(DecisionLog, APolicyRefusalIsOneEntryWithItsPoolAndNoClaim) {
  EngineBed bed;
  const DomainXml domain = one_port_domain("vm1", bed.vf(1), "52:54:00:aa:00:01", 250);

  Outcome outcome = run_event(bed, HookOp::prepare, "vm1", &domain);
  ASSERT_EQ(outcome.status, Outcome::Status::refused);

  const std::vector<LogEntry> refused = bed.log().with_outcome("refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].level, LogLevel::warning);
  EXPECT_EQ(refused[0].field(log_field::domain), "vm1");
  EXPECT_EQ(refused[0].field(log_field::event), "prepare");
  EXPECT_EQ(refused[0].field(log_field::pool), "provider");
  EXPECT_THAT(refused[0].message, HasSubstr("refused"));
  EXPECT_THAT(refused[0].message, HasSubstr("VLAN 250"));
  EXPECT_EQ(refused[0].message.find('\n'), std::string::npos);  // one line
  EXPECT_THAT(bed.log().with_outcome("claimed"), IsEmpty());
}

TEST(DecisionLog, AVfAnotherDomainHoldsIsRefusedForTheSecondAndLoggedOnce) {
  EngineBed bed;
  const DomainXml first = one_port_domain("vm1", bed.vf(3), "52:54:00:aa:00:03", 120);
  const DomainXml second = one_port_domain("vm2", bed.vf(3), "52:54:00:aa:00:04", 120);
  ASSERT_TRUE(run_event(bed, HookOp::prepare, "vm1", &first).ok());

  Outcome outcome = run_event(bed, HookOp::prepare, "vm2", &second);
  ASSERT_EQ(outcome.status, Outcome::Status::refused);
  const std::vector<LogEntry> refused = bed.log().with_outcome("refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].field(log_field::domain), "vm2");
  EXPECT_EQ(refused[0].field(log_field::pool), "provider");
  EXPECT_THAT(refused[0].message, HasSubstr("'vm1' is using this VF"));
  // vm1's claim is the only one logged.
  const std::vector<LogEntry> claimed = bed.log().with_outcome("claimed");
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].field(log_field::domain), "vm1");
}

TEST(DecisionLog, AnUndoStepThatFailsIsOneEntryOfItsOwn) {
  MemoryLogger memory;
  ContextLogger log(memory, {{"DOMAIN", "vm1"}, {"EVENT", "prepare"}});
  {
    UndoStack undo(log);
    undo.push(
        "rebind 0000:01:10.2 to igbvf",
        [] { return fail(ErrorKind::os, "write to bind: No such device"); },
        *PciAddress::parse("0000:01:10.2"));
    undo.push("restore MAC of 0000:01:10.2", [] { return ok(); });
    std::vector<std::string> failures = undo.unwind();
    ASSERT_EQ(failures.size(), 1u);
  }
  const std::vector<LogEntry> undo_failed = memory.with_outcome("undo-failed");
  ASSERT_EQ(undo_failed.size(), 1u);
  EXPECT_EQ(undo_failed[0].level, LogLevel::error);
  EXPECT_EQ(undo_failed[0].field(log_field::domain), "vm1");
  EXPECT_EQ(undo_failed[0].field(log_field::pci_address), "0000:01:10.2");
  EXPECT_THAT(undo_failed[0].message, HasSubstr("rebind 0000:01:10.2 to igbvf failed"));
  EXPECT_THAT(undo_failed[0].message, HasSubstr("No such device"));
  ASSERT_EQ(memory.entries.size(), 2u);  // the step that worked: a plain line
  EXPECT_EQ(memory.entries[0].field(log_field::outcome), std::nullopt);
}

TEST(DecisionLog, AFailureIsOneEntryAndADoneOutcomeAddsNothing) {
  MemoryLogger log;
  Outcome failed = Outcome::failed_with(Error{ErrorKind::os, "sysfs: bind: EBUSY", 0});
  failed.host_was_changed = true;
  log_decisions(log, HookOp::start, "vm1", failed);
  log_decisions(log, HookOp::start, "vm1", Outcome{});
  ASSERT_EQ(log.entries.size(), 1u);
  EXPECT_EQ(log.entries[0].field(log_field::outcome), "failed");
  EXPECT_EQ(log.entries[0].field(log_field::domain), "vm1");
  EXPECT_THAT(log.entries[0].message, HasSubstr("EBUSY"));
  EXPECT_THAT(log.entries[0].message, HasSubstr("(undone)"));

  Outcome released;
  released.problems = {"0000:01:10.2: netlink: EIO", "0000:01:10.3: netlink: EIO"};
  log_decisions(log, HookOp::release, "vm1", released);
  EXPECT_EQ(log.with_outcome("problem").size(), 2u);
}

TEST(DecisionLog, TheContextAddsDomainAndEventButAnEntrysOwnFieldWins) {
  MemoryLogger memory;
  ContextLogger log(memory, {{"DOMAIN", "vm1"}, {"EVENT", "migrate"}});
  log.info("a plain line");
  LogEntry own{LogLevel::info, "about another domain", {}};
  log.record(own.with(log_field::domain, "vm2"));
  log.set(log_field::event, "attach");
  log.info("after the command was known");

  ASSERT_EQ(memory.entries.size(), 3u);
  EXPECT_EQ(memory.entries[0].field(log_field::domain), "vm1");
  EXPECT_EQ(memory.entries[0].field(log_field::event), "migrate");
  EXPECT_EQ(memory.entries[1].field(log_field::domain), "vm2");
  EXPECT_EQ(memory.entries[1].fields.size(), 2u);  // DOMAIN once, EVENT
  EXPECT_EQ(memory.entries[2].field(log_field::event), "attach");
}

}  // namespace
}  // namespace vfhook
