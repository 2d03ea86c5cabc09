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
//
// The live re-attach marker: `vfctl migrate --live` of a guest whose VF ports have no virtio
// failover detaches those ports (the guest keeps its network on a virtio interface), puts into
// the running domain's LIVE XML
//
//   <vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="live-reattach" expires="1764480000">
//     <port alias="ua-web1-0" mac="52:54:00:aa:00:01"/>
//   </vfmove:move>
//
// and migrates live. The destination's migrate hook chooses and reserves a VF of each port's
// pool (the port record, found by alias, says which) and writes it into the marker it prints
// (<port ... vf="0000:03:10.2"/>); prepare and start there treat each such port as an
// <interface type='hostdev' managed='no'> of the domain (claim, snapshot, vfio-pci, settings),
// so that vfctl's attach through the destination's libvirt finds the VF ready. vfctl removes
// the marker once the ports are attached. The <port> children carry no namespace prefix:
// virDomainSetMetadata puts only the element it is given into the namespace, so libvirt
// stores its children without one; the reader accepts them in no namespace or in the marker's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/mac_address.h"
#include "model/pci_address.h"

namespace vfhook {

inline constexpr const char* kMoveNamespace = "urn:vfhook:move:1";
inline constexpr const char* kMoveNamespacePrefix = "vfmove";
inline constexpr const char* kMoveElement = "move";
// The domain moves while it is shut off.
inline constexpr const char* kMoveModeOffline = "offline";
// The domain moves live without the VF ports listed; the destination prepares a VF for each.
inline constexpr const char* kMoveModeLiveReattach = "live-reattach";
inline constexpr const char* kMovePortElement = "port";

enum class MoveMode { offline, live_reattach };

// One VF port that a live re-attach move detached on the source and re-attaches there.
struct ReattachPort {
  std::string alias;             // the port's alias ('ua-...'); its record has the same one
  MacAddress mac;                // the interface's MAC, kept on the new VF
  std::optional<PciAddress> vf;  // the VF the destination's migrate hook chose; unset before
  bool operator==(const ReattachPort&) const = default;
};

struct MoveMarker {
  MoveMarker() = default;
  // A constructor rather than aggregate initialisation, so MoveMarker{expires} stays complete.
  explicit MoveMarker(int64_t expires_at, MoveMode move_mode = MoveMode::offline,
                      std::vector<ReattachPort> reattach = {})
      : expires(expires_at), mode(move_mode), ports(std::move(reattach)) {}

  int64_t expires = 0;  // unix seconds, > 0
  MoveMode mode = MoveMode::offline;
  std::vector<ReattachPort> ports;  // live_reattach: at least one; offline: none

  // True from the second `expires` names on.
  [[nodiscard]] bool expired_at(std::chrono::system_clock::time_point now) const {
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() >=
           expires;
  }
  bool operator==(const MoveMarker&) const = default;
};

}  // namespace vfhook
