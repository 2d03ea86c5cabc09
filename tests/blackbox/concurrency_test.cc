// Many hook processes at once, as libvirt runs them for different domains: the claims
// database decides who gets a VF, and nobody gets one twice.
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int kDomains = 64;
constexpr int kVfs = 16;

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [address, name, ifindex] :
         {std::tuple{"0000:01:00.0", "enp1s0", 2}, std::tuple{"0000:02:00.0", "enp2s0", 3}}) {
      auto spec = standard_pf(address, name, 8);
      spec.total_vfs = 8;
      for (const auto& vf : bed.add_pf(spec, ifindex)) vfs.push_back(vf);
      // Admin MACs set, so that "restored exactly" is not confused with the never-zero rule.
      for (size_t i = 0; i < 8; ++i)
        bed.netlink_model().pf(name)->vfs[i].mac =
            mac("02:00:00:00:0" + std::to_string(ifindex) + ":0" + std::to_string(i));
    }
    bed.save_netlink();
    ASSERT_EQ(vfs.size(), static_cast<size_t>(kVfs));
    bed.write_config(R"(host_bridge_vlans = ["1-99"]

[[pool]]
name = "provider"
pfs = ["enp1s0", "enp2s0"]
vlans = ["100-199"]
allow_trust = true
)");
  }

  static std::string name_of(int i) {
    char name[16];
    std::snprintf(name, sizeof name, "vm%02d", i);
    return name;
  }

  // Domain i wants VF i % 16, with VLAN 100 + i % 16 and its own MAC.
  std::string xml_of(int i) {
    char mac_text[32];
    std::snprintf(mac_text, sizeof mac_text, "52:54:00:00:01:%02x", i);
    const int vlan = 100 + i % kVfs;
    return domain_xml(
        name_of(i),
        interface_hostdev_xml({mac(mac_text), vfs[static_cast<size_t>(i % kVfs)], false, vlan, ""}),
        port_record_xml(std::string("mac=\"") + mac_text + "\" pool=\"provider\" vlan=\"" +
                        std::to_string(vlan) + "\" trust=\"on\""));
  }

  // Starts every domain's hook for `op` before any of them gets its XML (each blocks reading
  // stdin), then releases them all at once and collects the results by domain index.
  std::vector<HookResult> run_all(const std::string& op, const std::string& subop) {
    std::vector<std::unique_ptr<HookProcess>> processes;
    for (int i = 0; i < kDomains; ++i)
      processes.push_back(HookProcess::spawn(bed.hook_argv(name_of(i), op, subop, "-")));
    for (int i = 0; i < kDomains; ++i) processes[static_cast<size_t>(i)]->feed(xml_of(i));
    std::vector<HookResult> results;
    for (auto& process : processes) results.push_back(process->finish());
    return results;
  }

  TestBed bed;
  std::vector<PciAddress> vfs;
};

TEST_F(ConcurrencyTest, SixtyFourDomainsRaceForSixteenVfs) {
  const auto before = bed.fingerprint();

  std::vector<HookResult> prepared = run_all("prepare", "begin");

  auto claims = bed.claims();
  ASSERT_EQ(claims.size(), static_cast<size_t>(kVfs));
  std::map<std::string, std::string> holder;  // VF -> domain
  for (const auto& claim : claims)
    EXPECT_TRUE(holder.emplace(claim.vf.to_string(), claim.domain).second)
        << claim.vf.to_string() << " claimed twice";
  EXPECT_EQ(holder.size(), static_cast<size_t>(kVfs));

  int winners = 0, losers = 0;
  for (int i = 0; i < kDomains; ++i) {
    const HookResult& r = prepared[static_cast<size_t>(i)];
    const std::string vf = vfs[static_cast<size_t>(i % kVfs)].to_string();
    ASSERT_EQ(r.term_signal, 0) << name_of(i) << " " << r.err;
    if (r.exit_code == 0) {
      ++winners;
      EXPECT_EQ(holder[vf], name_of(i)) << name_of(i) << " succeeded without holding " << vf;
      EXPECT_EQ(bed.driver(vfs[static_cast<size_t>(i % kVfs)]), "vfio-pci");
    } else {
      ++losers;
      EXPECT_EQ(r.exit_code, 1) << name_of(i) << " " << r.err;
      EXPECT_THAT(r.err, HasSubstr("domain '" + holder[vf] + "' is using this VF")) << name_of(i);
    }
  }
  EXPECT_EQ(winners, kVfs);
  EXPECT_EQ(losers, kDomains - kVfs);

  std::vector<HookResult> released = run_all("release", "end");
  for (int i = 0; i < kDomains; ++i) {
    const HookResult& r = released[static_cast<size_t>(i)];
    EXPECT_EQ(r.exit_code, 0) << name_of(i) << " " << r.err;
    EXPECT_EQ(r.err, "") << name_of(i);
  }
  EXPECT_THAT(bed.claims(), IsEmpty());
  for (const auto& vf : vfs) EXPECT_EQ(bed.driver(vf), "igbvf") << vf.to_string();
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

}  // namespace
}  // namespace vfhook::blackbox
