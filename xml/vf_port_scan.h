// Finding the VF ports under <devices>, in document order. Internal to xml/; DomainXml::parse
// calls it and keeps the result. See xml/domain_xml.h for which devices count as VF ports.
#pragma once

#include <libxml/tree.h>

#include <vector>

#include "util/result.h"
#include "xml/domain_xml.h"
#include "xml/port_record_xml.h"

namespace vfhook {

struct ScannedPort {
  VfPort port;
  // The <address> inside the port's host <source> (inside <actual> for a resolved network
  // port); nullptr for an unresolved network port. Owned by the document.
  xmlNode* source_address = nullptr;
  // The port's own element (<interface> or <hostdev>). Owned by the document.
  const xmlNode* element = nullptr;
};

Result<std::vector<ScannedPort>> scan_vf_ports(const xmlNode* root, const RecordKeys& keys);

}  // namespace vfhook
