// Is this raw text a UTF-8 XML document, read by libxml2 byte for byte as it is? Header-only
// and libc-only: the hook's front end (hooks/fast_path.cc) searches the raw bytes for names and
// must know that libxml2 would see the same characters, and safe_parse refuses anything else,
// so that its own checks on the raw text (DOCTYPE, limits) see what libxml2 parses. libvirt
// always writes UTF-8.
//
// libxml2 decides the encoding from the first bytes (a byte order mark, or "<?xm" in UTF-16,
// UTF-32 or EBCDIC), then from the XML declaration, which counts only at the very start.
#pragma once

#include <string_view>

namespace vfhook {

namespace utf8_detail {
inline bool is_xml_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}
inline bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 'a' + 'A') : b[i];
    if (x != y) return false;
  }
  return true;
}
// The encoding an XML declaration ("<?xml ... ?>") names is UTF-8 or ASCII, or it names none.
inline bool declares_utf8(std::string_view declaration) {
  size_t at = declaration.find("encoding");
  if (at == std::string_view::npos) return true;
  at += 8;
  while (at < declaration.size() && is_xml_space(declaration[at])) ++at;
  if (at == declaration.size() || declaration[at] != '=') return false;
  ++at;
  while (at < declaration.size() && is_xml_space(declaration[at])) ++at;
  if (at == declaration.size() || (declaration[at] != '"' && declaration[at] != '\'')) return false;
  size_t close = declaration.find(declaration[at], at + 1);
  if (close == std::string_view::npos) return false;
  std::string_view name = declaration.substr(at + 1, close - at - 1);
  return equals_nocase(name, "UTF-8") || equals_nocase(name, "UTF8") ||
         equals_nocase(name, "US-ASCII") || equals_nocase(name, "ASCII");
}
}  // namespace utf8_detail

// nullptr when nothing in `xml` asks libxml2 for another encoding than UTF-8: no NUL byte (every
// UTF-16/32 document has them), no UTF-16/32 byte order mark, and an XML declaration, if any,
// that names UTF-8 or ASCII. Otherwise why, as a phrase for a message ("it is not UTF-8: ...").
inline const char* why_not_utf8_xml(std::string_view xml) {
  if (xml.find('\0') != std::string_view::npos) return "it contains a NUL byte (UTF-16 or UTF-32?)";
  if (xml.substr(0, 2) == "\xfe\xff" || xml.substr(0, 2) == "\xff\xfe")
    return "it starts with a UTF-16 or UTF-32 byte order mark";
  size_t at = xml.substr(0, 3) == "\xef\xbb\xbf" ? 3 : 0;
  if (xml.substr(at, 5) == "<?xml") {
    size_t end = xml.find("?>", at);
    if (end == std::string_view::npos || !utf8_detail::declares_utf8(xml.substr(at, end - at)))
      return "its XML declaration names an encoding other than UTF-8";
  }
  return nullptr;
}

// True when the first character after an optional UTF-8 byte order mark and white space is '<'.
// Without a declaration or byte order mark, libxml2 guesses the encoding from the first bytes
// (EBCDIC starts 4C 6F A7 94): a document that starts otherwise is not one to read as UTF-8.
inline bool starts_with_markup(std::string_view xml) {
  size_t at = xml.substr(0, 3) == "\xef\xbb\xbf" ? 3 : 0;
  while (at < xml.size() && utf8_detail::is_xml_space(xml[at])) ++at;
  return at < xml.size() && xml[at] == '<';
}

}  // namespace vfhook
