// Untrusted text (a domain name from argv, a value from the XML, a name read back from the
// claims database) made safe to put in a message (stderr that libvirt shows) or a log line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vfhook {

// At most `max` bytes of `text`, each byte outside printable ASCII (0x20..0x7e) as \xNN and the
// backslash as \\, so the text cannot end a line, start a terminal escape sequence or pass for
// other text, and its bytes can be read back; "..." marks a cut. libvirt runs hooks with
// LC_ALL=C, where nothing but ASCII is printable anyway, so a UTF-8 name shows its bytes:
// caf\xc3\xa9.
std::string printable(std::string_view text, size_t max = 64);

}  // namespace vfhook
