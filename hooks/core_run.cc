#include "hooks/core_run.h"

#include <memory>
#include <optional>

#include "engine/decision_log.h"
#include "engine/domain_marker.h"
#include "engine/operations.h"
#include "hooks/report.h"
#include "model/names.h"
#include "policy/config.h"
#include "util/journal_log.h"
#include "util/log.h"
#include "util/printable.h"
#include "util/write_all.h"

namespace vfhook {
namespace {

// What a refusal adds: at prepare/start the domain does not start; at reconnect the running
// guest is kept and its claims are left as they are.
std::string nothing_changed(HookOp op) {
  return op == HookOp::reconnect ? "\nvfhook left the domain's VF claims as they are.\n"
                                 : "\nNothing was changed on the host.\n";
}

int run(const std::string& config_path, const std::string& domain, HookOp op, std::string_view xml,
        const BackendOpener& open_backends) {
  // The journal where journald runs (syslog otherwise); every entry of this event carries its
  // DOMAIN and EVENT, so `journalctl -t vfhook DOMAIN=web1` finds the guest's story.
  std::unique_ptr<Logger> system_log = open_system_logger("vfhook");
  ContextLogger log(*system_log, {{std::string(log_field::domain), domain},
                                  {std::string(log_field::event), std::string(to_string(op))}});
  // A refusal or failure before the engine ran: one entry (the text's lines joined), then
  // stderr for libvirt.
  auto report = [&](std::string_view outcome, const std::string& text) {
    std::string line = text;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    for (char& c : line)
      if (c == '\n') c = ' ';
    LogEntry entry{outcome == log_outcome::refused ? LogLevel::warning : LogLevel::error, line, {}};
    log.record(entry.with(log_field::outcome, std::string(outcome)));
    write_all(2, text);
    return exit_status_for(op, true);
  };
  const std::string shown = printable(domain, 255);

  // The name libvirt passes becomes the claims' owner, a marker file's name and part of log
  // lines: at the events that add claims it must be one vfhook stores, and the domain's own.
  // (release takes any name: it only looks up claims by it.)
  // migrate and restore add reservations under that name.
  const bool adds_claims = op == HookOp::prepare || op == HookOp::start ||
                           op == HookOp::reconnect || op == HookOp::migrate ||
                           op == HookOp::restore;
  if (adds_claims) {
    if (auto named = check_domain_name(domain); !named)
      return report(log_outcome::refused, "vfhook refused domain '" + shown +
                                              "': " + named.error().message + nothing_changed(op));
  }

  auto config = load_config(config_path);
  if (!config)
    return report(log_outcome::failed, "vfhook cannot use its config: " + config.error().message +
                                           "\nFix the file; nothing was changed on the host.\n");

  std::optional<DomainXml> parsed;
  if (op != HookOp::release) {
    auto xml_result = DomainXml::parse(xml);
    if (!xml_result)
      return report(log_outcome::refused, "vfhook refused domain '" + shown + "': " +
                                              xml_result.error().message + nothing_changed(op));
    parsed.emplace(std::move(*xml_result));
  }
  if (adds_claims && parsed->name() != domain)
    return report(log_outcome::refused,
                  "vfhook refused domain '" + shown + "': libvirt names it '" + shown +
                      "', but its XML's <name> is '" + printable(parsed->name(), 255) +
                      "'; vfhook keeps claims under the one name both agree on." +
                      nothing_changed(op));

  auto backends = open_backends(config_path, *config);
  if (!backends)
    return report(log_outcome::failed,
                  "vfhook cannot reach the host's VF state: " + backends.error().message +
                      "\nNothing was changed on the host.\n");
  EngineContext ctx{*config,
                    *(*backends)->sysfs,
                    *(*backends)->devfs,
                    *(*backends)->netlink,
                    *(*backends)->store,
                    (*backends)->clock,
                    log};

  Outcome outcome;
  std::optional<std::string> rewritten_xml;  // migrate/restore: what libvirt uses instead
  switch (op) {
    case HookOp::prepare:
      outcome = prepare_domain(domain, *parsed, ctx);
      break;
    case HookOp::start:
      outcome = start_domain(domain, *parsed, ctx);
      break;
    case HookOp::release:
      outcome = release_domain(domain, ctx);
      break;
    case HookOp::reconnect:
      outcome = reconnect_domain(domain, *parsed, ctx);
      break;
    case HookOp::migrate:
    case HookOp::restore: {
      Relocation relocation = op == HookOp::migrate ? migrate_domain(domain, *parsed, ctx)
                                                    : restore_domain(domain, *parsed, ctx);
      outcome = std::move(relocation.outcome);
      rewritten_xml = std::move(relocation.rewritten_xml);
      break;
    }
    default:
      break;
  }
  if (op == HookOp::release || op == HookOp::reconnect) {
    // Heals a marker left behind (or missing, after an upgrade) whatever the operation did.
    if (auto synced = sync_domain_markers(config->state_dir, {domain}, ctx.store); !synced)
      log.warning("domain " + shown + ": domain marker: " + synced.error().message);
  }
  log_decisions(log, op, domain, outcome);
  HookReport hook_report = report_outcome(op, domain, outcome);
  if (!hook_report.text.empty()) write_all(2, hook_report.text);
  // libvirt reads stdout as the new definition, and an empty stdout as "use yours": print only
  // a definition that changed, and only when the event succeeded.
  if (hook_report.exit_code == 0 && rewritten_xml) {
    if (!write_all(1, *rewritten_xml)) {
      const std::string text =
          "vfhook could not hand the rewritten domain XML to libvirt (writing its standard "
          "output failed); the VFs chosen stay reserved for domain '" +
          shown + "'. Retry; `vfctl gc` drops them if the domain does not come.\n";
      LogEntry entry{LogLevel::error, text.substr(0, text.size() - 1), {}};
      log.record(entry.with(log_field::outcome, std::string(log_outcome::failed)));
      write_all(2, text);
      return exit_status_for(op, true);
    }
  }
  return hook_report.exit_code;
}

}  // namespace

int run_hook_event(const char* config_path, const char* domain, const char* op,
                   std::string_view xml, const BackendOpener& open_backends) {
  HookOp hook_op = parse_hook_op(op);
  try {
    return run(config_path, domain, hook_op, xml, open_backends);
  } catch (const std::exception& e) {
    // Nothing in vfhook throws on purpose; an allocation failure must still not escape into a
    // C caller. No std::string here: the handler must not allocate (it may be bad_alloc).
    write_all(2, "vfhook: internal error: ");
    write_all(2, e.what());
    write_all(2, "; vfhook stopped handling this event there.\n");
    return exit_status_for(hook_op, true);
  } catch (...) {
    write_all(2, "vfhook: internal error; vfhook stopped handling this event there.\n");
    return exit_status_for(hook_op, true);
  }
}

}  // namespace vfhook
