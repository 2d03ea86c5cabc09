// LldpctlNeighbors: the neighbours a running lldpd knows, read through liblldpctl, which
// vfctl loads with dlopen when it first asks and never links: liblldpctl ships inside
// Debian's lldpd daemon package and its protocol to the daemon is not stable across versions,
// so the daemon's own library is the one to use, and a host without lldpd must still run
// vfctl. The library's absence, a daemon that is not running or refuses us (its socket is for
// root and group _lldpd), or a netdev lldpd does not watch, are each an error of
// neighbors_of() that says which and what to do: `vfctl status` shows it as "no LLDP data".
//
// lldpd is asked once, on the first neighbors_of(), for every interface; later calls answer
// from that snapshot.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lldp/neighbors.h"

namespace vfhook {

class LldpctlNeighbors final : public LldpNeighbors {
 public:
  // The soname of Debian's lldpd (1.0.x): liblldpctl.so.4.
  static constexpr const char* kDefaultLibrary = "liblldpctl.so.4";

  // `library` is what dlopen is given: a soname found on the loader's path, or a path (tests
  // load testing/'s scripted liblldpctl this way).
  explicit LldpctlNeighbors(std::string library = kDefaultLibrary);
  ~LldpctlNeighbors() override;

  Result<std::vector<LldpNeighbor>> neighbors_of(const std::string& netdev) override;

 private:
  using ByInterface = std::map<std::string, std::vector<LldpNeighbor>>;
  Result<ByInterface> ask_lldpd();

  std::string library_;
  std::optional<Result<ByInterface>> snapshot_;
};

}  // namespace vfhook
