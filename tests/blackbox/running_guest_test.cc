// The events that meet a running guest: libvirt kills the guest when its reconnect hook fails,
// and ignores release's status but then never asks again. So neither may fail, whatever their
// input or the memory they get: reconnect with anything it cannot use exits 0, says so and
// changes nothing; release restores the domain's VFs from the claims, without the XML.
#include <sys/resource.h>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---- memory --------------------------------------------------------------------------------

// Runs the hook with its address space capped at `limit` bytes (set in the child, before exec).
HookResult hook_with_address_space(TestBed& bed, const std::string& op, const std::string& xml,
                                   rlim_t limit) {
  struct rlimit cap = {limit, limit};
  return run_command(bed.hook_argv("vm1", op), xml, [cap] { ::setrlimit(RLIMIT_AS, &cap); });
}

TEST_F(HookTest, ReconnectWithoutMemoryNeverKillsTheGuest) {
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm1", "start", xml).exit_code, 0);
  const auto running = bed.fingerprint();
  // From "the front end barely starts" to "the core runs": every allocation on the way fails
  // at one of these limits. Below about 4 MiB the dynamic loader itself cannot map libc.
  for (rlim_t mib = 4; mib <= 96; mib += mib < 64 ? 2 : 16) {
    HookResult result = hook_with_address_space(bed, "reconnect", xml, mib << 20);
    EXPECT_EQ(result.term_signal, 0) << mib << " MiB: " << explain(result);
    EXPECT_EQ(result.exit_code, 0) << mib << " MiB: " << explain(result);
  }
  EXPECT_EQ(fingerprint_diff(running, bed.fingerprint()), "");
}

}  // namespace
}  // namespace vfhook::blackbox
