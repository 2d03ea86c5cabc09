// Fuzz target: the hook front end's decision (parse_hook_call, decide_work), against the full
// domain XML reader.
//
// Input: argv entries one a line (argv[0] "vfhook" is added), an empty line, then the domain
// XML as libvirt would put it on stdin.
//
// Invariants:
//  - parse_hook_call accepts exactly "DOMAIN OP SUBOP EXTRA", optionally after
//    "--config PATH", with non-empty DOMAIN and PATH; the fields are those argv entries;
//  - decide_work says none for started/stopped/other, and release does work
//    whenever prepare would;
//  - soundness: when decide_work says none for prepare/start/reconnect/release/migrate/restore, the
//  full
//    reader finds no VF port. libvirt writes the XML it hands a hook itself (libxml2 or its
//    own escaping): names and namespace URIs appear literally, never as character references,
//    and always in UTF-8. So the check runs on our own serialization of the document (the
//    same form), and on the raw input only when that is plain ASCII without '&' or an XML
//    declaration. Raw input with "h&#111;stdev", or in UTF-16, can hide a port from the fast path;
//    libvirt never sends such a document.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "hooks/fast_path.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

constexpr HookOp kAllOps[] = {HookOp::prepare, HookOp::start,     HookOp::started,
                              HookOp::stopped, HookOp::release,   HookOp::migrate,
                              HookOp::restore, HookOp::reconnect, HookOp::other};

bool is_vf_event(HookOp op) {
  return op == HookOp::prepare || op == HookOp::start || op == HookOp::reconnect ||
         op == HookOp::release || op == HookOp::migrate || op == HookOp::restore;
}

void check_hook_call(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(args.size());
  HookCall call;
  const bool ok = parse_hook_call(argc, argv.data(), call);
  // What a NUL inside an argument leaves of it: argv entries are C strings.
  auto arg = [&](int i) { return std::string_view(argv[size_t(i)]); };
  const bool with_config = argc >= 3 && arg(1) == "--config";
  const int first = with_config ? 3 : 1;
  const bool want = argc - first == 4 && !arg(first).empty() && (!with_config || !arg(2).empty());
  FUZZ_CHECK(ok == want, "parse_hook_call(argc %d) %s", argc, ok ? "accepted" : "refused");
  if (!ok) return;
  FUZZ_CHECK(call.config_path == (with_config ? arg(2) : std::string_view()), "config path");
  FUZZ_CHECK(call.domain == arg(first), "domain");
  FUZZ_CHECK(call.op == parse_hook_op(arg(first + 1)), "op");
  FUZZ_CHECK(call.subop == arg(first + 2) && call.extra == arg(first + 3), "subop/extra");
  const std::string_view name = to_string(call.op);
  FUZZ_CHECK(parse_hook_op(name) == call.op, "to_string(op) does not parse back");
  FUZZ_CHECK(call.op == HookOp::other || name == arg(first + 1), "op name");
}

bool plain_ascii_without_references(std::string_view xml) {
  // An XML declaration may name an encoding (UTF-7 spells "hostdev" in other ASCII letters).
  if (xml.find("<?xml") != std::string_view::npos) return false;
  for (char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || u >= 0x80 || c == '&') return false;
  }
  return true;
}

// The decision for `xml` must not skip a document in which the reader finds VF ports.
// `parsed` is the reader's view of `xml`, parsed only when some decision is none.
void check_sound(std::string_view xml, const char* form, const DomainXml* parsed = nullptr) {
  std::optional<Result<DomainXml>> own;
  for (HookOp op : kAllOps) {
    const Work work = decide_work(op, xml);
    if (!is_vf_event(op)) {
      FUZZ_CHECK(work == Work::none, "%s event needs work", std::string(to_string(op)).c_str());
      continue;
    }
    if (work == Work::full) continue;
    if (op == HookOp::release)
      FUZZ_CHECK(decide_work(HookOp::prepare, xml) == Work::none,
                 "prepare needs work but release not");
    if (parsed == nullptr) {
      if (!own) own.emplace(DomainXml::parse(xml));
      if (!*own) return;  // the core would refuse it; skipping it is fine
      parsed = &**own;
    }
    FUZZ_CHECK(parsed->vf_ports().empty(),
               "%s: decide_work(%s) says none, the reader finds %zu VF ports (first: %s)\n"
               "--- xml:\n%.*s",
               form, std::string(to_string(op)).c_str(), parsed->vf_ports().size(),
               parsed->vf_ports()[0].describe().c_str(), int(xml.size()), xml.data());
    auto records = parsed->port_records();
    FUZZ_CHECK(!records || records->empty(), "%s: decide_work(%s) says none, with %zu records",
               form, std::string(to_string(op)).c_str(), records->size());
  }
}

}  // namespace
}  // namespace vfhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vfhook;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args{"vfhook"};
  while (!input.empty()) {
    const size_t eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    if (line.empty()) break;
    if (args.size() < 10) args.emplace_back(line);
  }
  check_hook_call(args);

  const std::string_view xml = input;
  for (HookOp op : kAllOps) (void)decide_work(op, xml);  // any input: no crash
  auto parsed = DomainXml::parse(xml);
  if (!parsed) return 0;  // the core refuses it, whatever the fast path decides
  if (plain_ascii_without_references(xml)) check_sound(xml, "raw input", &*parsed);
  const std::string canonical = parsed->serialize();
  check_sound(canonical, "serialized");
  return 0;
}
