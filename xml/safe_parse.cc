#include "xml/safe_parse.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "xml/utf8_document.h"

namespace vfhook::xmlnode {
namespace {

struct ParserCtxtFree {
  void operator()(xmlParserCtxt* ctxt) const { xmlFreeParserCtxt(ctxt); }
};

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::toupper(static_cast<unsigned char>(a)) ==
                                 std::toupper(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

// Collects the first error of this parse only; libxml2 calls it instead of printing.
struct FirstError {
  std::string message;
  int line = 0;
};

// libxml2 passes the parser context (its userData) to sax->serror; our FirstError rides in
// the context's _private slot, which libxml2 leaves to the application.
void collect_error(void* user, xmlError* error) {
  auto* ctxt = static_cast<xmlParserCtxt*>(user);
  if (ctxt == nullptr || ctxt->_private == nullptr) return;
  auto* first = static_cast<FirstError*>(ctxt->_private);
  if (error == nullptr || !first->message.empty()) return;
  if (error->level < XML_ERR_ERROR) return;  // warnings do not explain a failure
  first->message = error->message != nullptr ? error->message : "unknown error";
  while (!first->message.empty() && first->message.back() == '\n') first->message.pop_back();
  first->line = error->line;
}

}  // namespace

Result<DocPtr> parse_untrusted(std::string_view text, size_t max_bytes, std::string_view what,
                               const XmlLimits& limits) {
  std::string prefix = std::string(what) + " refused: ";
  if (text.empty()) return fail(ErrorKind::invalid_input, prefix + "it is empty");
  if (text.size() > max_bytes)
    return fail(ErrorKind::invalid_input, prefix + "it is " + std::to_string(text.size()) +
                                              " bytes, more than the limit of " +
                                              std::to_string(max_bytes));
  // Everything below reads the raw bytes (and libxml2 is told they are UTF-8): they must be
  // the characters libxml2 parses. libvirt writes UTF-8 only.
  if (const char* why = why_not_utf8_xml(text))
    return fail(ErrorKind::invalid_input, prefix + "it is not UTF-8: " + why);
  if (contains_nocase(text, "<!DOCTYPE"))
    return fail(ErrorKind::invalid_input,
                prefix + "it declares a DOCTYPE; libvirt never sends one");
  if (contains_nocase(text, "<!ENTITY"))
    return fail(ErrorKind::invalid_input,
                prefix + "it declares an ENTITY; libvirt never sends one");
  VF_TRY(check_xml_shape(text, limits, prefix));

  xmlInitParser();
  std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return fail(ErrorKind::internal, prefix + "libxml2 could not allocate a parser");
  FirstError first;
  // serror is consulted before any global handler, so another library's handler (or
  // libxml2's default of printing to stderr) never sees our input.
  ctxt->sax->serror = collect_error;
  ctxt->_private = &first;
  // UTF-8 and nothing else, whatever the text declares (XML_PARSE_IGNORE_ENC).
  const int options =
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC;
  DocPtr doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), "domain.xml",
                               "UTF-8", options));
  if (!doc || !ctxt->wellFormed) {
    if (first.message.empty()) {
      const xmlError* last = xmlCtxtGetLastError(ctxt.get());
      if (last != nullptr && last->message != nullptr) {
        first.message = last->message;
        first.line = last->line;
        while (!first.message.empty() && first.message.back() == '\n') first.message.pop_back();
      }
    }
    return fail(ErrorKind::invalid_input, prefix + "it is not well-formed XML (line " +
                                              std::to_string(first.line) + ": " +
                                              printable(first.message, 200) + ")");
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr)
    return fail(ErrorKind::invalid_input,
                prefix + "it declares a DOCTYPE; libvirt never sends one");
  return doc;
}

}  // namespace vfhook::xmlnode
