#include "xml/xml_shape.h"

#include <algorithm>
#include <string>

namespace vfhook::xmlnode {
namespace {

bool is_blank(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

bool is_name_start(char ch) {
  auto u = static_cast<unsigned char>(ch);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == ':' || u >= 0x80;
}

// Whether the start tag whose name begins at `at` ends with "/>": follows quoted values, and
// stops at the first '>' outside them or at a '<' (where libxml2 ends a broken start tag).
bool is_empty_element_tag(std::string_view text, size_t at) {
  char quote = 0;
  for (size_t i = at; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '<') return false;
    if (quote != 0) {
      if (ch == quote) quote = 0;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '>') {
      return text[i - 1] == '/';
    }
  }
  return false;
}

}  // namespace

Status check_xml_shape(std::string_view text, const XmlLimits& limits, std::string_view prefix) {
  size_t elements = 0, depth = 0, attributes = 0, element_attributes = 0, namespaces = 0;
  auto refuse = [&](size_t at, const std::string& what) -> Status {
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n'));
    return fail(ErrorKind::invalid_input,
                std::string(prefix) + what + " (line " + std::to_string(line) + ")");
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '<') {
      element_attributes = 0;
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (next == '/') {
        if (depth > 0) --depth;
      } else if (is_name_start(next) || next == '!' || next == '?') {
        if (++elements > limits.max_elements)
          return refuse(i, "it has more than " + std::to_string(limits.max_elements) +
                               " elements (a real domain has a few thousand at most)");
        if (is_name_start(next) && !is_empty_element_tag(text, i + 1) && ++depth > limits.max_depth)
          return refuse(i, "its elements are nested more than " + std::to_string(limits.max_depth) +
                               " deep (real domain XML: about 10)");
      }
    } else if (ch == '=') {
      size_t value = i + 1;
      while (value < text.size() && is_blank(text[value])) ++value;
      if (value < text.size() && (text[value] == '"' || text[value] == '\'')) {
        if (++element_attributes > limits.max_attributes_per_element)
          return refuse(i, "an element has more than " +
                               std::to_string(limits.max_attributes_per_element) +
                               " attributes (real domain XML has about 20 at most)");
        if (++attributes > limits.max_attributes)
          return refuse(i, "it has more than " + std::to_string(limits.max_attributes) +
                               " attributes in all (a real domain has a few thousand)");
      }
    } else if (ch == 'x' && text.substr(i, 5) == "xmlns" && i + 5 < text.size() &&
               (text[i + 5] == ':' || text[i + 5] == '=' || is_blank(text[i + 5]))) {
      if (++namespaces > limits.max_namespace_declarations)
        return refuse(i, "it has more than " + std::to_string(limits.max_namespace_declarations) +
                             " namespace declarations (real domain XML has a handful)");
    }
  }
  return ok();
}

}  // namespace vfhook::xmlnode
