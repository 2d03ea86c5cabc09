// libvfhook_hook.so: loaded by the hook's front end when an event has work for vfhook.
#include <unistd.h>

#include <cerrno>
#include <string>

#include "hooks/core_api.h"
#include "hooks/domain_marker.h"
#include "hooks/fast_path.h"
#include "hooks/handlers.h"
#include "policy/config.h"
#include "util/printable.h"
#include "util/write_all.h"
#include "xml/names.h"

namespace vfhook {
namespace {

// What a refusal adds: at prepare/start the domain does not start; at reconnect the running
// guest is kept and its claims are left as they are.
std::string nothing_changed(HookOp op) {
  return op == HookOp::reconnect ? "\nvfhook left the domain's VF claims as they are.\n"
                                 : "\nNothing was changed on the host.\n";
}

int run(const std::string& config_path, const std::string& domain, HookOp op,
        std::string_view xml) {
  SyslogLogger log("vfhook");
  auto report = [&](const std::string& text) {
    log.error(text);
    write_all(2, text);
    return failure_exit_status(op);
  };
  const std::string shown = printable(domain, 255);

  // The name libvirt passes becomes the claims' owner, a marker file's name and part of log
  // lines: at the events that add claims it must be one vfhook stores, and the domain's own.
  // (release takes any name: it only looks up claims by it.)
  const bool adds_claims = op == HookOp::prepare || op == HookOp::start || op == HookOp::reconnect;
  if (adds_claims) {
    if (auto named = check_domain_name(domain); !named)
      return report("vfhook refused domain '" + shown + "': " + named.error().message +
                    nothing_changed(op));
  }

  auto config = load_config(config_path);
  if (!config)
    return report("vfhook cannot use its config: " + config.error().message +
                  "\nFix the file; nothing was changed on the host.\n");

  std::optional<DomainXml> parsed;
  if (op != HookOp::release) {
    auto xml_result = DomainXml::parse(xml);
    if (!xml_result)
      return report("vfhook refused domain '" + shown + "': " + xml_result.error().message +
                    nothing_changed(op));
    parsed.emplace(std::move(*xml_result));
  }
  if (adds_claims && parsed->name() != domain)
    return report("vfhook refused domain '" + shown + "': libvirt names it '" + shown +
                  "', but its XML's <name> is '" + printable(parsed->name(), 255) +
                  "'; vfhook keeps claims under the one name both agree on." + nothing_changed(op));

  auto backends = open_backends(*config);
  if (!backends)
    return report("vfhook cannot reach the host's VF state: " + backends.error().message +
                  "\nNothing was changed on the host.\n");
  HookContext ctx{*config,
                  *(*backends)->sysfs,
                  *(*backends)->devfs,
                  *(*backends)->netlink,
                  *(*backends)->store,
                  (*backends)->clock,
                  log};

  HookOutcome outcome;
  switch (op) {
    case HookOp::prepare:
      outcome = handle_prepare(domain, *parsed, ctx);
      break;
    case HookOp::start:
      outcome = handle_start(domain, *parsed, ctx);
      break;
    case HookOp::release:
      outcome = handle_release(domain, ctx);
      break;
    case HookOp::reconnect:
      outcome = handle_reconnect(domain, *parsed, ctx);
      break;
    default:
      break;
  }
  if (op == HookOp::release || op == HookOp::reconnect) {
    // Heals a marker left behind (or missing, after an upgrade) whatever the handler did.
    if (auto synced = sync_domain_markers(config->state_dir, {domain}, ctx.store); !synced)
      log.warning("domain " + shown + ": domain marker: " + synced.error().message);
  }
  write_all(1, outcome.to_stdout);
  write_all(2, outcome.to_stderr);
  return outcome.exit_code;
}

}  // namespace
}  // namespace vfhook

extern "C" int vfhook_hook_run(const char* config_path, const char* domain, const char* op,
                               const char* /*subop*/, const char* /*extra*/, const char* xml,
                               size_t xml_len) {
  vfhook::HookOp hook_op = vfhook::parse_hook_op(op);
  try {
    return vfhook::run(config_path, domain, hook_op, std::string_view(xml, xml_len));
  } catch (const std::exception& e) {
    // Nothing in vfhook throws on purpose; an allocation failure must still not escape into a
    // C caller. No std::string here: the handler must not allocate (it may be bad_alloc).
    vfhook::write_all(2, "vfhook: internal error: ");
    vfhook::write_all(2, e.what());
    vfhook::write_all(2, "; vfhook stopped handling this event there.\n");
    return vfhook::failure_exit_status(hook_op);
  } catch (...) {
    vfhook::write_all(2, "vfhook: internal error; vfhook stopped handling this event there.\n");
    return vfhook::failure_exit_status(hook_op);
  }
}
