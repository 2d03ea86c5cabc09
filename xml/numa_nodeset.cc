#include "xml/numa_nodeset.h"

#include <bitset>
#include <string>

#include "xml/xml_node.h"

namespace vfhook {
namespace {

bool parse_node(std::string_view text, int& out) {
  if (text.empty() || text.size() > 4) return false;
  out = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    out = out * 10 + (ch - '0');
  }
  return out <= kMaxNumaNode;
}

}  // namespace

Result<std::vector<int>> parse_numa_nodeset(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorKind::invalid_input,
                "NUMA nodeset '" + xmlnode::printable(text) + "' refused: " + std::string(why));
  };
  std::bitset<kMaxNumaNode + 1> included, excluded;
  if (text.empty()) return bad("it is empty");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return bad("empty item");
    if (item[0] == '^') {
      int node;
      if (!parse_node(item.substr(1), node))
        return bad("bad exclusion '" + xmlnode::printable(item) + "'");
      excluded.set(static_cast<size_t>(node));
    } else {
      size_t dash = item.find('-');
      int first, last;
      if (dash == std::string_view::npos) {
        if (!parse_node(item, first)) return bad("bad node (expected 0..1023)");
        last = first;
      } else if (!parse_node(item.substr(0, dash), first) ||
                 !parse_node(item.substr(dash + 1), last) || first > last) {
        return bad("bad range (expected N-M with 0 <= N <= M <= 1023)");
      }
      for (int n = first; n <= last; ++n) included.set(static_cast<size_t>(n));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::vector<int> nodes;
  for (size_t n = 0; n < included.size(); ++n)
    if (included.test(n) && !excluded.test(n)) nodes.push_back(static_cast<int>(n));
  if (nodes.empty()) return bad("it names no node");
  return nodes;
}

}  // namespace vfhook
