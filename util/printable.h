// Untrusted text made safe to quote in a message (stderr that libvirt shows, the journal).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vfhook {

// At most `max` bytes of `text`; control characters (and DEL) shown as '?', so a hostile value
// cannot forge lines in virsh's error or the journal; "..." marks a cut.
std::string printable(std::string_view text, size_t max = 64);

}  // namespace vfhook
