#include "hooks/core_run.h"

#include <optional>

#include "engine/operations.h"
#include "hooks/report.h"
#include "policy/config.h"
#include "util/log.h"
#include "util/printable.h"
#include "util/write_all.h"

namespace vfhook {
namespace {

int run(const std::string& config_path, const std::string& domain, HookOp op, std::string_view xml,
        const BackendOpener& open_backends) {
  SyslogLogger log("vfhook");
  auto report = [&](const std::string& text) {
    log.error(text);
    write_all(2, text);
    return exit_status_for(op, true);
  };
  std::string shown = printable(domain, 255);

  auto config = load_config(config_path);
  if (!config)
    return report("vfhook cannot use its config: " + config.error().message +
                  "\nFix the file; nothing was changed on the host.\n");

  std::optional<DomainXml> parsed;
  if (op != HookOp::release) {
    auto xml_result = DomainXml::parse(xml);
    if (!xml_result)
      return report("vfhook refused domain '" + shown + "': " + xml_result.error().message +
                    "\nNothing was changed on the host.\n");
    parsed.emplace(std::move(*xml_result));
  }

  auto backends = open_backends(config_path, *config);
  if (!backends)
    return report("vfhook cannot reach the host's VF state: " + backends.error().message +
                  "\nNothing was changed on the host.\n");
  EngineContext ctx{*config,
                    *(*backends)->sysfs,
                    *(*backends)->devfs,
                    *(*backends)->netlink,
                    *(*backends)->store,
                    (*backends)->clock,
                    log};

  Outcome outcome;
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
    default:
      break;
  }
  HookReport hook_report = report_outcome(op, domain, outcome);
  if (!hook_report.text.empty()) {
    if (outcome.status == Outcome::Status::refused)
      log.warning(hook_report.text);
    else
      log.error(hook_report.text);
    write_all(2, hook_report.text);
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
