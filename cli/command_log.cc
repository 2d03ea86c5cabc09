#include "cli/command_log.h"

#include "engine/decision_log.h"
#include "util/printable.h"

namespace vfhook {
namespace {

// A refusal by policy (the engine's plan, the pool) or a failure of a step.
std::string_view error_outcome(const Error& error) {
  return error.kind == ErrorKind::policy ? log_outcome::refused : log_outcome::failed;
}

LogEntry command_entry(LogLevel level, const std::string& domain, std::string message) {
  LogEntry entry{level, "domain " + printable(domain, 255) + ": " + std::move(message), {}};
  entry.with(log_field::domain, domain);
  return entry;
}

LogEntry failure_entry(const std::string& domain, const std::string& what, const Error& error) {
  const std::string_view outcome = error_outcome(error);
  LogEntry entry =
      command_entry(outcome == log_outcome::refused ? LogLevel::warning : LogLevel::error, domain,
                    what + " " + std::string(outcome) + ": " + error.message);
  entry.with(log_field::outcome, std::string(outcome));
  return entry;
}

}  // namespace

LogEntry attach_entry(const std::string& domain, const PortSpec& spec,
                      const Result<Attachment>& result) {
  if (!result) {
    LogEntry entry = failure_entry(domain, "attach", result.error());
    return entry.with(log_field::pool, spec.pool);
  }
  const PortAddition& port = result->port;
  const bool partly = !result->left_behind.empty();
  LogEntry entry = command_entry(partly ? LogLevel::warning : LogLevel::info, domain,
                                 "port " + port.alias + " attached: VF " + port.vf.vf.to_string() +
                                     " (PF " + port.vf.pf_name + " VF " +
                                     std::to_string(port.vf.vf_index) + ") of pool '" + spec.pool +
                                     "'" + (partly ? "; " + result->left_behind : std::string()));
  entry.with(log_field::pci_address, port.vf.vf.to_string())
      .with(log_field::pf, port.vf.pf_name)
      .with(log_field::vf_index, port.vf.vf_index)
      .with(log_field::pool, spec.pool)
      .with(log_field::outcome,
            std::string(partly ? command_outcome::partly_done : command_outcome::attached));
  return entry;
}

LogEntry detach_entry(const std::string& domain, const std::string& alias,
                      const Result<Detachment>& result) {
  if (!result) return failure_entry(domain, "detach of " + printable(alias), result.error());
  std::string_view outcome = command_outcome::detached;
  if (!result->released)
    outcome = command_outcome::kept_by_guest;
  else if (!result->left_behind.empty())
    outcome = command_outcome::partly_done;
  LogEntry entry = command_entry(
      outcome == command_outcome::detached ? LogLevel::info : LogLevel::warning, domain,
      "port " + printable(alias) + (result->released ? " detached" : " not detached") +
          (result->vf ? ": VF " + result->vf->to_string() : std::string()) +
          (result->left_behind.empty() ? std::string() : "; " + result->left_behind));
  entry
      .with(log_field::pci_address,
            result->vf ? std::optional<std::string>(result->vf->to_string()) : std::nullopt)
      .with(log_field::outcome, std::string(outcome));
  return entry;
}

LogEntry migrate_entry(const MigrationRequest& request, const Result<MigrationReport>& result) {
  const std::string kind = request.kind == MigrationKind::live ? "live" : "cold";
  if (!result) {
    LogEntry entry =
        failure_entry(request.domain, kind + " migration to " + request.dest_uri, result.error());
    return entry.with(log_field::destination, request.dest_uri);
  }
  const bool partly = !result->left_behind.empty();
  std::string moves;
  for (const MovedPort& port : result->ports)
    moves += "; " + port.port + ": " + (port.from ? port.from->to_string() : "?") + " -> " +
             (port.to ? port.to->to_string() : "?");
  LogEntry entry = command_entry(partly ? LogLevel::warning : LogLevel::info, request.domain,
                                 "migrated (" + kind + ") to " + request.dest_uri + moves +
                                     (partly ? "; " + result->left_behind : std::string()));
  entry.with(log_field::destination, request.dest_uri)
      .with(log_field::outcome,
            std::string(partly ? command_outcome::partly_done : command_outcome::migrated));
  return entry;
}

}  // namespace vfhook
