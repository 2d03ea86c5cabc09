#include "engine/outcome.h"

namespace vfhook {

std::string to_string(const Refusal& refusal) {
  if (refusal.subject.empty()) return refusal.reason;
  return refusal.subject + ": " + refusal.reason;
}

Outcome Outcome::refused_by(std::vector<Refusal> refusals) {
  Outcome outcome;
  outcome.status = Status::refused;
  outcome.refusals = std::move(refusals);
  return outcome;
}

Outcome Outcome::failed_with(Error error) {
  Outcome outcome;
  outcome.status = Status::failed;
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace vfhook
