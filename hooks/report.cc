#include "hooks/report.h"

#include "engine/decision_log.h"
#include "util/printable.h"

namespace vfhook {
namespace {

std::string refused_text(HookOp op, const std::string& domain, const Outcome& outcome) {
  std::string text;
  if (op == HookOp::migrate)
    text = "vfhook refused the migration of domain '" + domain + "' to this host:\n";
  else if (op == HookOp::restore)
    text = "vfhook refused to restore domain '" + domain + "' on this host:\n";
  else
    text = "vfhook refused to start domain '" + domain + "':\n";
  for (const Refusal& refusal : outcome.refusals) text += "  - " + to_string(refusal) + "\n";
  text += "Nothing was changed on the host.\n";
  return text;
}

std::string failed_text(HookOp op, const std::string& domain, const Outcome& outcome) {
  std::string text = "vfhook could not " + std::string(to_string(op)) + " domain '" + domain +
                     "': " + (outcome.error ? outcome.error->message : "unknown error") + "\n";
  if (!outcome.host_was_changed) return text + "Nothing was changed on the host.\n";
  if (op == HookOp::migrate || op == HookOp::restore) {
    if (outcome.undo_failures.empty())
      return text + "The VFs reserved for it here were released again.\n";
    text += "Releasing the VFs reserved for it here failed too:\n";
    for (const auto& step : outcome.undo_failures) text += "  - " + step + "\n";
    return text + "Drop them with `vfctl gc` once the domain is gone from this host.\n";
  }
  if (outcome.undo_failures.empty())
    return text + (op == HookOp::start
                       ? "The VF settings vfhook had applied for this start were undone.\n"
                       : "Everything vfhook had done for this start was undone.\n");
  text += "Undoing what vfhook had done for this start failed too:\n";
  for (const auto& step : outcome.undo_failures) text += "  - " + step + "\n";
  text +=
      "Their claims and snapshots are kept: the release libvirt runs next retries the "
      "restore. Check these devices (driver, VF settings) before using them again.\n";
  return text;
}

std::string problems_text(HookOp op, const std::string& domain, const Outcome& outcome) {
  if (outcome.problems.empty()) return {};
  std::string text;
  if (op == HookOp::release)
    text = "vfhook could not fully restore the VFs of domain '" + domain + "':\n";
  else
    text = "vfhook: domain '" + domain + "' at " + std::string(to_string(op)) + ":\n";
  for (const auto& p : outcome.problems) text += "  - " + p + "\n";
  if (op == HookOp::release)
    text +=
        "Their claims are kept so that nothing is lost; the next stop of this domain retries.\n";
  else if (op == HookOp::reconnect)
    text += "The running guest keeps its VFs as they are.\n";
  return text;
}

}  // namespace

int exit_status_for(HookOp op, bool failed) {
  return failed ? failure_exit_status(op) : 0;
}

HookReport report_outcome(HookOp op, const std::string& domain_name, const Outcome& outcome) {
  std::string domain = printable(domain_name, 255);
  switch (outcome.status) {
    case Outcome::Status::refused:
      return {exit_status_for(op, true), refused_text(op, domain, outcome)};
    case Outcome::Status::failed:
      return {exit_status_for(op, true), failed_text(op, domain, outcome)};
    case Outcome::Status::done:
      break;
  }
  return {0, problems_text(op, domain, outcome)};
}

void log_decisions(Logger& log, HookOp op, const std::string& domain_name, const Outcome& outcome) {
  const std::string domain = printable(domain_name, 255);
  const std::string at = "domain " + domain + ": " + std::string(to_string(op)) + ": ";
  auto entry = [&](LogLevel level, std::string message, std::string_view outcome_field) {
    LogEntry e{level, std::move(message), {}};
    e.with(log_field::domain, domain_name);
    e.with(log_field::outcome, std::string(outcome_field));
    return e;
  };
  switch (outcome.status) {
    case Outcome::Status::refused:
      for (const Refusal& refusal : outcome.refusals) {
        LogEntry e =
            entry(LogLevel::warning, at + "refused: " + to_string(refusal), log_outcome::refused);
        if (!refusal.pool.empty()) e.with(log_field::pool, refusal.pool);
        log.record(e);
      }
      return;
    case Outcome::Status::failed:
      log.record(entry(LogLevel::error,
                       at +
                           "failed: " + (outcome.error ? outcome.error->message : "unknown error") +
                           (!outcome.host_was_changed       ? " (nothing was changed)"
                            : outcome.undo_failures.empty() ? " (undone)"
                                                            : " (undo failed in part)"),
                       log_outcome::failed));
      return;
    case Outcome::Status::done:
      break;
  }
  for (const std::string& problem : outcome.problems)
    log.record(entry(LogLevel::warning, at + problem, log_outcome::problem));
}

}  // namespace vfhook
