// Bounding the work an untrusted XML document can cause, with one linear pass over its raw
// bytes before libxml2 sees them. libxml2 2.9 is quadratic in the attributes of one element
// (duplicate checks, and the tree's attribute list is walked on every append: 150,000 of them
// took 237 s) and in namespace declarations in scope (every prefixed name is looked up through
// all of them); every node costs an allocation, and vfhook then walks the tree.
//
// The counts are upper bounds of what libxml2 builds, whatever the input, well-formed or not:
//  - libxml2 accepts an attribute only as `name S? = S? quote`, and ends a start tag at any '<'
//    (an attribute value cannot hold one), so the '=' followed by blanks and a quote between one
//    '<' and the next bound the attributes of the element that starts there;
//  - every element starts with '<' and a name-start character, every comment, CDATA section and
//    processing instruction (nodes too, and splitting the text around them) with "<!" or "<?":
//    all count as elements;
//  - a namespace declaration is an attribute named xmlns or xmlns:*, so each "xmlns" followed by
//    ':', '=' or a blank is counted.
// Text that looks like markup (in comments, say) only makes the counts larger. The depth
// follows start tags (quotes respected, "/>" closes at once) and end tags; libxml2 itself stops
// at 256.
#pragma once

#include <cstddef>
#include <string_view>

#include "util/result.h"

namespace vfhook::xmlnode {

struct XmlLimits {
  size_t max_elements;  // and comments, CDATA sections, processing instructions
  size_t max_depth;
  size_t max_attributes_per_element;
  size_t max_attributes;
  size_t max_namespace_declarations;
};

// For libvirt domain XML, each far above what a real domain has, and each keeping the worst
// document under 4 MiB to a fraction of a second in the hook (measured; see the commit):
//  - elements: a large guest's `virsh dumpxml` has a few thousand (a 768-vCPU guest lists each
//    vCPU in <vcpus> and <cputune>: about 1,600), management metadata adds tens;
//  - depth: about 8 (domain/devices/interface/source/address), metadata a few more;
//  - attributes on one element: about 12 at most (<graphics>, a disk's <driver>);
//  - attributes in all: about three per element;
//  - namespace declarations: libvirt's own (qemu:, metadata's) are a handful.
inline constexpr XmlLimits kDomainXmlLimits = {
    .max_elements = 25'000,
    .max_depth = 64,
    .max_attributes_per_element = 256,
    .max_attributes = 100'000,
    .max_namespace_declarations = 64,
};

// Fails with ErrorKind::invalid_input naming the limit and the line, e.g. "<prefix>an element on
// line 3 has more than 256 attributes (real domain XML has about 20 at most)".
Status check_xml_shape(std::string_view text, const XmlLimits& limits, std::string_view prefix);

}  // namespace vfhook::xmlnode
