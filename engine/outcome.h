// Outcome: what an engine operation did, as data. The engine never writes prose for a person:
// the hook (hooks/report.cc) and vfctl each turn an Outcome into their exit status and text.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace vfhook {

// One reason a request was refused by policy or by the host's state. Nothing was changed.
struct Refusal {
  std::string subject;    // the port, as PlannedPort::describe() names it; "" for the domain
  std::string reason;     // why, and what to do about it
  std::string pool = {};  // the port's pool, when known (the log's POOL field)
  bool operator==(const Refusal&) const = default;
};

// "subject: reason", or the reason alone for the domain as a whole.
std::string to_string(const Refusal& refusal);

struct Outcome {
  enum class Status {
    done,     // everything asked for was done (see `problems` for release/reconnect)
    refused,  // policy or the host said no before anything changed: see `refusals`
    failed,   // a step failed: see `error`; what had been done was undone (`undo_failures`)
  };
  Status status = Status::done;
  std::vector<Refusal> refusals;
  std::optional<Error> error;
  // failed: true when the host had been changed before the failure, so an undo ran.
  bool host_was_changed = false;
  // Undo steps that failed: their VFs keep their claims and snapshots, so the next release
  // retries from the original state.
  std::vector<std::string> undo_failures;
  // Operations that never fail (release, reconnect): what they could not do, or ports they
  // found running against today's policy. Empty when all went well.
  std::vector<std::string> problems;

  [[nodiscard]] bool ok() const { return status == Status::done; }

  static Outcome refused_by(std::vector<Refusal> refusals);
  // A failure before anything changed on the host.
  static Outcome failed_with(Error error);
};

}  // namespace vfhook
