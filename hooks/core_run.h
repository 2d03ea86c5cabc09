// The hook core's body, shared by the installed core (hooks/core_entry.cc: the host's
// backends) and the test bed's core (testing/testbed_core.cc: fake backends): load the config,
// parse the XML, open the backends, run the engine operation for the event, report.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/host_backends.h"
#include "hooks/fast_path.h"

namespace vfhook {

// Opens the backends an event runs against, for a loaded config.
using BackendOpener = std::function<Result<std::unique_ptr<HostBackends>>(
    const std::string& config_path, const HostConfig& config)>;

// Handles one event; writes stdout/stderr; returns the hook's exit status. Never throws.
int run_hook_event(const char* config_path, const char* domain, const char* op,
                   std::string_view xml, const BackendOpener& open_backends);

}  // namespace vfhook
