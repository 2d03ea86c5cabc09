// UndoStack: the steps a handler has taken, undone in reverse order unless the handler
// commits. Every undo step is attempted even if an earlier one fails; failures are logged (one
// entry each, OUTCOME=undo-failed; the caller's logger adds the domain), as there may be nobody
// left to return them to.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/decision_log.h"
#include "engine/outcome.h"
#include "model/pci_address.h"
#include "util/log.h"
#include "util/result.h"

namespace vfhook {

class UndoStack {
 public:
  explicit UndoStack(Logger& log) : log_(log) {}
  ~UndoStack() { unwind(); }
  UndoStack(const UndoStack&) = delete;
  UndoStack& operator=(const UndoStack&) = delete;

  // `what` names the step for the log ("rebind 0000:01:10.2 to igbvf"); `device`, when the
  // step is about one, becomes the PCI_ADDRESS of its undo-failed entry.
  void push(std::string what, std::function<Status()> undo,
            std::optional<PciAddress> device = std::nullopt) {
    steps_.push_back({std::move(what), std::move(undo), device});
  }
  void commit() { steps_.clear(); }

  // Returns the steps that failed ("<what>: <error>"), so the caller can tell the person
  // reading its error whether the host really is back as it was.
  std::vector<std::string> unwind() {
    std::vector<std::string> failures;
    while (!steps_.empty()) {
      auto step = std::move(steps_.back());
      steps_.pop_back();
      if (auto status = step.undo(); !status) {
        LogEntry entry{
            LogLevel::error, "rollback: " + step.what + " failed: " + status.error().message, {}};
        if (step.device) entry.with(log_field::pci_address, step.device->to_string());
        log_.record(entry.with(log_field::outcome, std::string(log_outcome::undo_failed)));
        failures.push_back(step.what + ": " + status.error().message);
      } else {
        log_.info("rollback: " + step.what);
      }
    }
    return failures;
  }

 private:
  struct Step {
    std::string what;
    std::function<Status()> undo;
    std::optional<PciAddress> device;
  };
  Logger& log_;
  std::vector<Step> steps_;
};

// A failure after the host was changed: unwinds `undo` first, so the outcome can say whether
// the host really is back as it was (undo_failures lists the steps that were not).
inline Outcome rolled_back(Error error, UndoStack& undo) {
  Outcome outcome = Outcome::failed_with(std::move(error));
  outcome.host_was_changed = true;
  outcome.undo_failures = undo.unwind();
  return outcome;
}

}  // namespace vfhook
