// Parsing untrusted XML with libxml2 so that it can neither expand entities nor read files.
//
// Refuses, before libxml2 sees a byte: empty input, input over `max_bytes`, anything but UTF-8
// (xml/utf8_document.h: libxml2 is then told the text is UTF-8, so every check on the raw bytes
// sees what it parses), and any text containing "<!DOCTYPE" or "<!ENTITY" (any case), so
// entity bombs never expand; and anything over `limits` (xml/xml_shape.h), so no document keeps
// libxml2 (or vfhook's walks over the tree) busy for long. After the
// parse, a document that still carries an internal or external subset is refused too.
// libxml2 runs with XML_PARSE_NONET|XML_PARSE_NOERROR|XML_PARSE_NOWARNING (never NOENT,
// DTDLOAD or HUGE) and a per-call error handler: nothing is printed to stderr, the first
// error becomes the message of an ErrorKind::invalid_input Error.
#pragma once

#include <cstddef>
#include <string_view>

#include "util/result.h"
#include "xml/xml_node.h"
#include "xml/xml_shape.h"

namespace vfhook::xmlnode {

// `what` names the document in messages ("domain XML").
Result<DocPtr> parse_untrusted(std::string_view text, size_t max_bytes, std::string_view what,
                               const XmlLimits& limits = kDomainXmlLimits);

}  // namespace vfhook::xmlnode
