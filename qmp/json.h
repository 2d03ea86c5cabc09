// JsonPtr and typed member reads: the only way qmp/ touches json-c values.
//
// Every QMP message is untrusted, so a field is read only through these helpers, which check
// its json-c type (and an integer's range) and name the field in the error:
// "query-pci: return[0].devices[2].id.vendor: expected an integer, got a string".
#pragma once

#include <json-c/json.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace vfhook {

struct JsonPut {
  void operator()(json_object* object) const { json_object_put(object); }
};
// Owns one reference to a json-c value (json_object_put when it goes).
using JsonPtr = std::unique_ptr<json_object, JsonPut>;

// A new owned reference to `object` (which stays owned by whoever held it).
inline JsonPtr json_ref(json_object* object) {
  return JsonPtr(json_object_get(object));
}

// "an object", "a string", ... for messages.
std::string_view json_type_phrase(json_type type);

// The member `key` of `object` checked to be of `type`; nullptr when it is absent and not
// `required`. `where` names `object` in the error ("greeting.QMP").
Result<json_object*> json_member(json_object* object, const char* key, json_type type,
                                 std::string_view where, bool required);
// An integer member within min..max (a double, a string or a boolean is refused).
Result<int64_t> json_int_member(json_object* object, const char* key, std::string_view where,
                                int64_t min, int64_t max);
Result<std::string> json_string_member(json_object* object, const char* key,
                                       std::string_view where);

// Compact JSON text of `object` ("null" for nullptr), for sending and for messages.
std::string json_text(json_object* object);

}  // namespace vfhook
