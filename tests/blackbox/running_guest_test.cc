// The events that meet a running guest: libvirt kills the guest when its reconnect hook fails,
// and ignores release's status but then never asks again. So neither may fail, whatever their
// input or the memory they get: reconnect with anything it cannot use exits 0, says so and
// changes nothing; release restores the domain's VFs from the claims, without the XML.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A running two-port domain (vm1 on VFs 0 and 1) and the host as it was before it started.
class RunningDomainTest : public HookTest {
 protected:
  void SetUp() override {
    HookTest::SetUp();
    xml = two_port_domain(vfs);
    before_start = bed.fingerprint();
    ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
    ASSERT_EQ(bed.hook("vm1", "start", xml).exit_code, 0);
    ASSERT_EQ(bed.claims().size(), 2u);
  }

  // What release must leave: every VF as before the start, no claim.
  void expect_released() {
    EXPECT_THAT(bed.claims(), IsEmpty());
    EXPECT_EQ(bed.driver(vfs[0]), "igbvf");
    EXPECT_EQ(fingerprint_diff(before_start, bed.fingerprint()), "");
  }

  std::string xml;
  std::map<std::string, std::string> before_start;
};

// The domain's XML with 5 MiB of comment after its devices: over the 4 MiB cap.
std::string oversized(const std::string& xml) {
  std::string big = xml;
  big.insert(big.find("</domain>"), "<!--" + std::string(5 << 20, 'x') + "-->\n");
  return big;
}

// Ways a hook's standard input can be unreadable; each runs in the child before exec.
struct BadStdin {
  std::string name;
  std::function<void()> in_child;
};
void PrintTo(const BadStdin& input, std::ostream* os) {
  *os << input.name;
}

const BadStdin kBadStdin[] = {
    {"Closed", [] { ::close(0); }},
    {"Directory",
     [] {
       int fd = ::open("/", O_RDONLY | O_DIRECTORY);
       ::dup2(fd, 0);
       ::close(fd);
     }},
};

TEST_F(RunningDomainTest, OversizedXmlAtReconnectExitsZeroAndChangesNothing) {
  const auto running = bed.fingerprint();
  HookResult result = bed.hook("vm1", "reconnect", oversized(xml));
  EXPECT_EQ(result.exit_code, 0) << explain(result);
  EXPECT_THAT(result.err, HasSubstr("larger than 4 MiB"));
  EXPECT_EQ(fingerprint_diff(running, bed.fingerprint()), "");
}

TEST_F(RunningDomainTest, OversizedXmlAtReleaseStillReleases) {
  HookResult result = bed.hook("vm1", "release", oversized(xml), "end", "-");
  EXPECT_EQ(result.exit_code, 0) << explain(result);
  expect_released();
}

class BadStdinTest : public RunningDomainTest, public ::testing::WithParamInterface<BadStdin> {};

TEST_P(BadStdinTest, AtReconnectExitsZeroAndChangesNothing) {
  const auto running = bed.fingerprint();
  HookResult result = run_command(bed.hook_argv("vm1", "reconnect"), xml, GetParam().in_child);
  EXPECT_EQ(result.exit_code, 0) << explain(result);
  EXPECT_THAT(result.err, HasSubstr("cannot read the domain XML"));
  EXPECT_EQ(fingerprint_diff(running, bed.fingerprint()), "");
}

TEST_P(BadStdinTest, AtReleaseStillReleases) {
  HookResult result =
      run_command(bed.hook_argv("vm1", "release", "end", "-"), xml, GetParam().in_child);
  EXPECT_EQ(result.exit_code, 0) << explain(result);
  expect_released();
}

TEST_P(BadStdinTest, AtPrepareRefusesAndChangesNothing) {
  const auto running = bed.fingerprint();
  HookResult result = run_command(bed.hook_argv("vm2", "prepare"), xml, GetParam().in_child);
  EXPECT_EQ(result.exit_code, 1) << explain(result);
  EXPECT_THAT(result.err, HasSubstr("cannot read the domain XML"));
  EXPECT_EQ(fingerprint_diff(running, bed.fingerprint()), "");
}

TEST_P(BadStdinTest, AtStartedExitsZero) {
  // libvirt kills QEMU when its started hook fails; vfhook has nothing to do there anyway.
  HookResult result = run_command(bed.hook_argv("vm1", "started"), xml, GetParam().in_child);
  EXPECT_EQ(result.exit_code, 0) << explain(result);
}

INSTANTIATE_TEST_SUITE_P(Stdin, BadStdinTest, ::testing::ValuesIn(kBadStdin),
                         [](const auto& info) { return info.param.name; });

// ---- memory --------------------------------------------------------------------------------

// Runs the hook with its address space capped at `limit` bytes (set in the child, before exec).
HookResult hook_with_address_space(TestBed& bed, const std::string& op, const std::string& xml,
                                   rlim_t limit) {
  struct rlimit cap = {limit, limit};
  return run_command(bed.hook_argv("vm1", op), xml, [cap] { ::setrlimit(RLIMIT_AS, &cap); });
}

// AddressSanitizer reserves terabytes of address space at startup, so under it no process
// starts with a small RLIMIT_AS at all: the sweep below is meaningless there.
#if defined(__SANITIZE_ADDRESS__)
#define VFHOOK_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VFHOOK_UNDER_ASAN 1
#endif
#endif

TEST_F(HookTest, ReconnectWithoutMemoryNeverKillsTheGuest) {
#ifdef VFHOOK_UNDER_ASAN
  GTEST_SKIP() << "AddressSanitizer build: an RLIMIT_AS sweep cannot run under ASan";
#endif
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
