// Reading and writing PortRecords in a domain's <metadata> (see xml/port_record.h for the
// format). Internal to xml/; DomainXml is the public face.
//
// Reading is strict: the vfhook element is found by namespace URI (any prefix), at most one
// may exist, each <port> may carry only the known attributes, and every value is validated.
// An error names the record ("port record #2 (mac 52:54:00:aa:00:01)") and the attribute.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <vector>

#include "model/move_marker.h"
#include "model/port_record.h"
#include "util/result.h"
#include "xml/domain_xml.h"

namespace vfhook {

// What a record must satisfy (also checked before writing): one of alias/mac/host, a valid
// pool, alias, unicast MAC, VLAN 1..4094 with QoS 0..7, min <= max rate unless max is 0, IP.
Status validate_port_record(const PortRecord& record);

Result<std::vector<PortRecord>> read_port_records(const xmlNode* root);
// Replaces vfhook's element under <metadata> (created if absent); no records: removes it.
Status write_port_records(xmlNode* root, const std::vector<PortRecord>& records);

// The aliases and MACs that records name, read leniently (a record with a bad attribute still
// contributes a valid mac/alias), so a broken record cannot hide which devices are VF ports;
// port_records() reports the breakage.
struct RecordKeys {
  std::vector<std::string> aliases;
  std::vector<MacAddress> macs;
};
RecordKeys read_record_keys(const xmlNode* root);

// How many elements vfhook's element(s) under <metadata> hold: the records, valid or not.
size_t count_record_elements(const xmlNode* root);

// Whether `record` names `port`: by alias, by mac (interfaces), by host (hostdevs).
bool record_describes(const PortRecord& record, const VfPort& port);
// Refuses a record that describes two of `ports`, and a port described by two records: each
// would silently give one device's settings to another.
Status check_one_device_per_record(const std::vector<PortRecord>& records,
                                   const std::vector<VfPort>& ports);

// The cold-move marker (model/move_marker.h), found under <metadata> by kMoveNamespace.
Result<std::optional<MoveMarker>> read_move_marker(const xmlNode* root);
// Unlinks every element of kMoveNamespace under <metadata>; true when there was one.
bool remove_move_markers(xmlNode* root);
// The marker element as text, without a namespace, for virDomainSetMetadata (which adds it).
Result<std::string> render_move_marker_element(const MoveMarker& marker);
// Replaces the marker under <metadata> (created if absent) with `marker`, in its namespace;
// invalid_input (the document unchanged) for a marker render_move_marker_element refuses.
Status write_move_marker(xmlNode* root, const MoveMarker& marker);

}  // namespace vfhook
