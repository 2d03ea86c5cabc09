// The hook's one mapping from an engine Outcome to what libvirt gets: the exit status and the
// text a person reads in `virsh start`'s error (stderr) and in the journal.
#pragma once

#include <string>

#include "engine/outcome.h"
#include "hooks/fast_path.h"
#include "util/log.h"

namespace vfhook {

struct HookReport {
  int exit_code = 0;
  std::string text;  // "" when there is nothing to say
};

// failure_exit_status(op) when `failed`, else 0.
int exit_status_for(HookOp op, bool failed);

HookReport report_outcome(HookOp op, const std::string& domain, const Outcome& outcome);

// The Outcome's decisions for the journal, one entry each (util/log.h, engine/decision_log.h):
// each refusal (OUTCOME=refused, POOL when the refusal knows it), the failure (OUTCOME=failed)
// and each problem of release/reconnect (OUTCOME=problem), with DOMAIN. What the engine
// logged as it went (claimed, restored, undo-failed, moved) is not repeated; a done outcome
// without problems adds nothing.
void log_decisions(Logger& log, HookOp op, const std::string& domain, const Outcome& outcome);

}  // namespace vfhook
