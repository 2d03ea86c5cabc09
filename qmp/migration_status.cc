#include "qmp/migration_status.h"

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "qmp/json.h"

namespace vfhook {
namespace {

constexpr size_t kMaxEventData = 4096;

constexpr std::array<std::pair<std::string_view, QemuMigrationStatus>, 6> kStatuses{{
    {"setup", QemuMigrationStatus::setup},
    {"wait-unplug", QemuMigrationStatus::wait_unplug},
    {"active", QemuMigrationStatus::active},
    {"completed", QemuMigrationStatus::completed},
    {"failed", QemuMigrationStatus::failed},
    {"cancelled", QemuMigrationStatus::cancelled},
}};

struct TokenerFree {
  void operator()(json_tokener* tokener) const { json_tokener_free(tokener); }
};

}  // namespace

std::string_view to_string(QemuMigrationStatus status) {
  for (const auto& [name, value] : kStatuses)
    if (value == status) return name;
  return "other";
}

Result<QemuMigrationStatus> parse_migration_event(std::string_view data) {
  if (data.size() > kMaxEventData)
    return fail(ErrorKind::invalid_input, "MIGRATION event: its data is longer than " +
                                              std::to_string(kMaxEventData) + " bytes");
  std::unique_ptr<json_tokener, TokenerFree> tokener(json_tokener_new());
  if (!tokener) return fail(ErrorKind::os, "MIGRATION event: out of memory");
  JsonPtr value(json_tokener_parse_ex(tokener.get(), data.data(), static_cast<int>(data.size())));
  // Whole text, one value: a truncated object or anything but blanks after it is refused. (A
  // JSON null parses to no object, with success.)
  if (json_tokener_get_error(tokener.get()) != json_tokener_success ||
      data.find_first_not_of(" \t\r\n", json_tokener_get_parse_end(tokener.get())) !=
          std::string_view::npos)
    return fail(ErrorKind::invalid_input, "MIGRATION event: its data is not one JSON value");
  if (!json_object_is_type(value.get(), json_type_object))
    return fail(ErrorKind::invalid_input,
                "MIGRATION event: expected an object, got " +
                    std::string(json_type_phrase(json_object_get_type(value.get()))));
  VF_ASSIGN(status, json_string_member(value.get(), "status", "MIGRATION event data"));
  for (const auto& [name, known] : kStatuses)
    if (status == name) return known;
  return QemuMigrationStatus::other;
}

}  // namespace vfhook
