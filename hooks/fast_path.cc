#include "hooks/fast_path.h"

#include <cstring>

#include "model/port_record.h"

namespace vfhook {

HookOp parse_hook_op(std::string_view op) {
  if (op == "prepare") return HookOp::prepare;
  if (op == "start") return HookOp::start;
  if (op == "started") return HookOp::started;
  if (op == "stopped") return HookOp::stopped;
  if (op == "release") return HookOp::release;
  if (op == "migrate") return HookOp::migrate;
  if (op == "restore") return HookOp::restore;
  if (op == "reconnect") return HookOp::reconnect;
  return HookOp::other;
}

std::string_view to_string(HookOp op) {
  switch (op) {
    case HookOp::prepare:
      return "prepare";
    case HookOp::start:
      return "start";
    case HookOp::started:
      return "started";
    case HookOp::stopped:
      return "stopped";
    case HookOp::release:
      return "release";
    case HookOp::migrate:
      return "migrate";
    case HookOp::restore:
      return "restore";
    case HookOp::reconnect:
      return "reconnect";
    case HookOp::other:
      return "other";
  }
  return "other";
}

bool parse_hook_call(int argc, const char* const* argv, HookCall& call) {
  int first = 1;
  call.config_path = {};
  if (argc >= 3 && std::strcmp(argv[1], "--config") == 0) {
    call.config_path = argv[2];
    if (call.config_path.empty()) return false;
    first = 3;
  }
  if (argc - first != 4) return false;
  call.domain = argv[first];
  call.op = parse_hook_op(argv[first + 1]);
  call.subop = argv[first + 2];
  call.extra = argv[first + 3];
  return !call.domain.empty();
}

int failure_exit_status(HookOp op) {
  return op == HookOp::prepare || op == HookOp::start ? 1 : 0;
}

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// True when some <interface ...> start tag carries type='network' (either quote style, any
// attribute order). Looks only inside the tag, so a <source network='...'> does not count.
bool has_network_interface(std::string_view xml) {
  size_t at = 0;
  while ((at = xml.find("<interface", at)) != std::string_view::npos) {
    size_t end = xml.find('>', at);
    if (end == std::string_view::npos) return true;  // malformed: let the core say so
    std::string_view tag = xml.substr(at, end - at);
    if (contains(tag, "'network'") || contains(tag, "\"network\"")) return true;
    at = end;
  }
  return false;
}

}  // namespace

Work decide_work(HookOp op, std::string_view domain_xml) {
  bool mentions_vf = contains(domain_xml, "hostdev") || contains(domain_xml, kPortNamespace);
  switch (op) {
    case HookOp::prepare:
    case HookOp::start:
    case HookOp::reconnect:
      return mentions_vf ? Work::full : Work::none;
    case HookOp::release:
      return (mentions_vf || has_network_interface(domain_xml)) ? Work::full : Work::none;
    case HookOp::started:
    case HookOp::stopped:
    case HookOp::migrate:
    case HookOp::restore:
    case HookOp::other:
      return Work::none;
  }
  return Work::none;
}

}  // namespace vfhook
