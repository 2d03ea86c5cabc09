// MoveMarker: the cold-move marker `vfctl migrate --cold` puts in a domain's persistent
// definition just before an offline migration, so that the destination's migrate hook (which
// cannot tell a live migration from an offline one: libvirt runs it for both with the same XML)
// knows the move is cold:
//
//   <metadata>
//     <vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="offline" expires="1764480000"/>
//   </metadata>
//
// It has its own namespace, apart from the port records' (model/port_record.h), because
// libvirt keeps one <metadata> child per namespace and virDomainSetMetadata replaces or removes
// a whole child by its namespace: vfctl sets and drops the marker without touching the records.
// `expires` is in unix seconds; a marker at or past it counts as absent. The migrate hook
// removes the marker from the definition it prints, so it never travels on.
#pragma once

#include <chrono>
#include <cstdint>

namespace vfhook {

inline constexpr const char* kMoveNamespace = "urn:vfhook:move:1";
inline constexpr const char* kMoveNamespacePrefix = "vfmove";
inline constexpr const char* kMoveElement = "move";
// The only mode there is: the domain moves while it is shut off.
inline constexpr const char* kMoveModeOffline = "offline";

struct MoveMarker {
  int64_t expires = 0;  // unix seconds, > 0

  // True from the second `expires` names on.
  [[nodiscard]] bool expired_at(std::chrono::system_clock::time_point now) const {
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() >=
           expires;
  }
  bool operator==(const MoveMarker&) const = default;
};

}  // namespace vfhook
