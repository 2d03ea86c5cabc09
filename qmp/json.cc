#include "qmp/json.h"

namespace vfhook {

std::string_view json_type_phrase(json_type type) {
  switch (type) {
    case json_type_null:
      return "null";
    case json_type_boolean:
      return "a boolean";
    case json_type_double:
      return "a number with a fraction";
    case json_type_int:
      return "an integer";
    case json_type_object:
      return "an object";
    case json_type_array:
      return "an array";
    case json_type_string:
      return "a string";
  }
  return "an unknown JSON type";
}

Result<json_object*> json_member(json_object* object, const char* key, json_type type,
                                 std::string_view where, bool required) {
  json_object* value = nullptr;
  if (!json_object_is_type(object, json_type_object) ||
      !json_object_object_get_ex(object, key, &value)) {
    if (!required) return nullptr;
    return fail(ErrorKind::invalid_input,
                std::string(where) + ": no member '" + key + "' in QEMU's answer");
  }
  // json_object_get_type(nullptr) is json_type_null: a JSON null has no object.
  json_type actual = json_object_get_type(value);
  if (actual != type) {
    return fail(ErrorKind::invalid_input, std::string(where) + "." + key + ": expected " +
                                              std::string(json_type_phrase(type)) + ", got " +
                                              std::string(json_type_phrase(actual)));
  }
  return value;
}

Result<int64_t> json_int_member(json_object* object, const char* key, std::string_view where,
                                int64_t min, int64_t max) {
  VF_ASSIGN(value, json_member(object, key, json_type_int, where, true));
  // json-c keeps integers above INT64_MAX as uint64; get_int64 would clamp them silently.
  if (json_object_get_int64(value) == INT64_MAX && json_object_get_uint64(value) != INT64_MAX) {
    return fail(ErrorKind::invalid_input,
                std::string(where) + "." + key + ": integer out of range");
  }
  int64_t number = json_object_get_int64(value);
  if (number < min || number > max) {
    return fail(ErrorKind::invalid_input, std::string(where) + "." + key + ": " +
                                              std::to_string(number) + " is outside " +
                                              std::to_string(min) + ".." + std::to_string(max));
  }
  return number;
}

Result<std::string> json_string_member(json_object* object, const char* key,
                                       std::string_view where) {
  VF_ASSIGN(value, json_member(object, key, json_type_string, where, true));
  return std::string(json_object_get_string(value),
                     static_cast<size_t>(json_object_get_string_len(value)));
}

std::string json_text(json_object* object) {
  return json_object_to_json_string_ext(object,
                                        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

}  // namespace vfhook
