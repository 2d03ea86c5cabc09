#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "policy/config.h"

namespace vfhook {
namespace {

constexpr const char* full_config = R"(state_dir = "/var/lib/vfhook-test"
host_bridge_vlans = ["1-99", 4000]

[[pool]]
name = "provider"
pfs = ["enp1s0", "0000:02:00.0"]
vf_range = "0-5"
vlans = ["100-199", "300", 400]
allow_trust = true
allow_spoofchk_off = true
spoofchk = false
trust = true
link_state = "enable"
keep_idle_on_vfio = true
failover = true
mode = "vf"

[[pool]]
name = "storage"
pfs = ["enp3s0"]
flat = true
link_state = "disable"

[[pool]]
name = "whole"
mode = "pf"
pfs = ["0000:05:00.1"]
)";

TEST(Config, ReadsEveryKey) {
  auto config = parse_config(full_config, "vfhook.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->state_dir, "/var/lib/vfhook-test");
  EXPECT_EQ(config->host_bridge_vlans, (std::vector<VlanRange>{{1, 99}, {4000, 4000}}));
  ASSERT_EQ(config->pools.size(), 3u);

  const Pool& p = config->pools[0];
  EXPECT_EQ(p.name, "provider");
  EXPECT_EQ(p.mode, PoolMode::vf);
  EXPECT_EQ(p.pfs, (std::vector<PoolPf>{{"enp1s0"}, {"0000:02:00.0"}}));
  ASSERT_TRUE(p.vf_range);
  EXPECT_EQ(*p.vf_range, (std::pair<int, int>{0, 5}));
  EXPECT_EQ(p.vlans, (std::vector<VlanRange>{{100, 199}, {300, 300}, {400, 400}}));
  EXPECT_FALSE(p.flat);
  EXPECT_TRUE(p.allow_trust);
  EXPECT_TRUE(p.allow_spoofchk_off);
  EXPECT_FALSE(p.spoofchk);
  EXPECT_TRUE(p.trust);
  EXPECT_EQ(p.link_state, LinkState::enable);
  EXPECT_TRUE(p.keep_idle_on_vfio);
  EXPECT_TRUE(p.failover);

  const Pool& s = config->pools[1];
  EXPECT_TRUE(s.flat);
  EXPECT_TRUE(s.vlans.empty());
  EXPECT_TRUE(s.spoofchk);  // defaults
  EXPECT_FALSE(s.trust);
  EXPECT_FALSE(s.allow_trust);
  EXPECT_FALSE(s.allow_spoofchk_off);
  EXPECT_FALSE(s.keep_idle_on_vfio);
  EXPECT_FALSE(s.failover);  // live migration with failover is opt-in
  EXPECT_FALSE(s.vf_range);
  EXPECT_EQ(s.link_state, LinkState::disable);
  EXPECT_EQ(config->pools[2].mode, PoolMode::pf);
}

TEST(Config, PciAddressPfsAreStoredCanonically) {
  auto config = parse_config(
      "[[pool]]\nname = \"a\"\npfs = [\"0000:0A:1f.0\", \"enp1s0\", \"ABCD:EF:00.1\"]\n",
      "vfhook.toml");
  ASSERT_TRUE(config) << config.error().message;
  // Lower case, as sysfs names devices: the engine compares refs with PciAddress::to_string().
  std::vector<std::string> refs;
  for (const PoolPf& pf : config->pools[0].pfs) refs.push_back(pf.ref);
  EXPECT_EQ(refs, (std::vector<std::string>{"0000:0a:1f.0", "enp1s0", "abcd:ef:00.1"}));
}

TEST(Config, OnePfSpelledTwoWaysInTwoPoolsIsInTwoPools) {
  auto config = parse_config(
      "[[pool]]\nname = \"a\"\npfs = [\"0000:0A:00.0\"]\n\n"
      "[[pool]]\nname = \"b\"\npfs = [\"0000:0a:00.0\"]\n",
      "vfhook.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "vfhook.toml:5: pool 'b': pfs: PF '0000:0a:00.0' is already in pool 'a' (a PF "
            "belongs to one pool)");
}

TEST(Config, DefaultsForAnEmptyFile) {
  auto config = parse_config("", "vfhook.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->state_dir, "/var/lib/vfhook");
  EXPECT_TRUE(config->pools.empty());
}

TEST(Config, PoolQueries) {
  auto config = parse_config(full_config, "vfhook.toml");
  ASSERT_TRUE(config) << config.error().message;
  const Pool* provider = config->find_pool("provider");
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(config->find_pool("nope"), nullptr);
  EXPECT_TRUE(provider->allows_vlan(100));
  EXPECT_TRUE(provider->allows_vlan(199));
  EXPECT_TRUE(provider->allows_vlan(300));
  EXPECT_FALSE(provider->allows_vlan(200));
  EXPECT_FALSE(provider->allows_vlan(99));
  EXPECT_FALSE(provider->allows_vlan(0));
  EXPECT_FALSE(config->find_pool("storage")->allows_vlan(100));  // flat: untagged only
  EXPECT_TRUE(provider->includes_vf_index(0));
  EXPECT_TRUE(provider->includes_vf_index(5));
  EXPECT_FALSE(provider->includes_vf_index(6));
  EXPECT_FALSE(provider->includes_vf_index(-1));
  EXPECT_TRUE(config->find_pool("storage")->includes_vf_index(200));  // no vf_range
  EXPECT_TRUE(config->is_host_bridge_vlan(1));
  EXPECT_TRUE(config->is_host_bridge_vlan(99));
  EXPECT_TRUE(config->is_host_bridge_vlan(4000));
  EXPECT_FALSE(config->is_host_bridge_vlan(100));
}

struct BadConfig {
  const char* text;
  const char* expected;  // the whole message, file and line included
};

void PrintTo(const BadConfig& bad, std::ostream* os) {
  *os << "expecting: " << bad.expected;
}

class ConfigRefuses : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigRefuses, WithFileAndLine) {
  auto config = parse_config(GetParam().text, "vfhook.toml");
  ASSERT_FALSE(config) << "accepted:\n" << GetParam().text;
  EXPECT_EQ(config.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(config.error().message, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ConfigRefuses,
    ::testing::Values(
        BadConfig{"[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100\", "
                  "\"4095\"]\n",
                  "vfhook.toml:4: pool 'provider': vlans: '4095' is not a VLAN ID (1-4094)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvlans = [\"0\"]\n",
                  "vfhook.toml:4: pool 'p': vlans: '0' is not a VLAN ID (1-4094)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvlans = [\"10-x\"]\n",
                  "vfhook.toml:4: pool 'p': vlans: '10-x' is not a VLAN ID or range (\"N\" or "
                  "\"A-B\")"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvlans = [\"200-100\"]\n",
                  "vfhook.toml:4: pool 'p': vlans: '200-100' is an empty range"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvlans = [\" 10\"]\n",
                  "vfhook.toml:4: pool 'p': vlans: ' 10' is not a VLAN ID or range (\"N\" or "
                  "\"A-B\")"},
        BadConfig{"host_bridge_vlans = [\"1-99\"]\n\n[[pool]]\nname = \"p\"\npfs = "
                  "[\"enp1s0\"]\nvlans = [\"50-150\"]\n",
                  "vfhook.toml:6: pool 'p': vlans: '50-150' overlaps host_bridge_vlans '1-99': "
                  "a guest could join a host bridge VLAN"},
        BadConfig{"host_bridge_vlans = [\"1-99\", \"4000-\"]\n",
                  "vfhook.toml:1: host_bridge_vlans: '4000-' is not a VLAN ID or range (\"N\" "
                  "or \"A-B\")"},
        BadConfig{"statedir = \"/x\"\n",
                  "vfhook.toml:1: unknown key 'statedir' (allowed: state_dir, "
                  "host_bridge_vlans, [[pool]])"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nspofchk = true\n",
                  "vfhook.toml:4: pool 'p': unknown key 'spofchk' (allowed: name, mode, pfs, "
                  "vf_range, vlans, flat, allow_trust, allow_spoofchk_off, spoofchk, trust, "
                  "link_state, keep_idle_on_vfio, num_vfs, failover)"},
        BadConfig{"[[pool]]\nname = \"a\"\npfs = [\"enp1s0\"]\n\n[[pool]]\nname = \"a\"\npfs "
                  "= [\"enp2s0\"]\n",
                  "vfhook.toml:6: pool 'a': name used by an earlier pool"},
        BadConfig{"[[pool]]\nname = \"../etc\"\npfs = [\"enp1s0\"]\n",
                  "vfhook.toml:2: pool: name '../etc' must be 1-64 of A-Z a-z 0-9 _ . : -"},
        BadConfig{"[[pool]]\npfs = [\"enp1s0\"]\n", "vfhook.toml:1: pool: missing 'name'"},
        BadConfig{"[[pool]]\nname = \"p\"\n",
                  "vfhook.toml:1: pool 'p': missing 'pfs' (the PFs of the pool)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = []\n",
                  "vfhook.toml:3: pool 'p': pfs: expected a non-empty array of interface "
                  "names or PCI addresses"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"averyveryverylongname0\"]\n",
                  "vfhook.toml:3: pool 'p': pfs: 'averyveryverylongname0' is neither an "
                  "interface name (at most 15 of A-Z a-z 0-9 _ . -) nor a PCI address "
                  "(0000:03:00.0)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"0000:02:00\"]\n",
                  "vfhook.toml:3: pool 'p': pfs: '0000:02:00' is neither an interface name "
                  "(at most 15 of A-Z a-z 0-9 _ . -) nor a PCI address (0000:03:00.0)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"en/p1\"]\n",
                  "vfhook.toml:3: pool 'p': pfs: 'en/p1' is neither an interface name (at "
                  "most 15 of A-Z a-z 0-9 _ . -) nor a PCI address (0000:03:00.0)"},
        BadConfig{"[[pool]]\nname = \"a\"\npfs = [\"0000:02:00.0\"]\n\n[[pool]]\nname = "
                  "\"b\"\npfs = [\"0000:02:00.0\"]\n",
                  "vfhook.toml:5: pool 'b': pfs: PF '0000:02:00.0' is already in pool 'a' (a "
                  "PF belongs to one pool)"},
        // The same PF written in another case is still the same PF.
        BadConfig{"[[pool]]\nname = \"a\"\npfs = [\"0000:0a:00.0\", \"0000:0A:00.0\"]\n",
                  "vfhook.toml:3: pool 'a': pfs: '0000:0A:00.0' is listed twice"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvf_range = \"5-2\"\n",
                  "vfhook.toml:4: pool 'p': vf_range: '5-2' is not a VF index range \"A-B\" "
                  "with 0 <= A <= B <= 255"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvf_range = \"0-256\"\n",
                  "vfhook.toml:4: pool 'p': vf_range: '0-256' is not a VF index range \"A-B\" "
                  "with 0 <= A <= B <= 255"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nvlans = [\"100\"]\nflat = "
                  "true\n",
                  "vfhook.toml:5: pool 'p': flat = true and vlans exclude each other (flat is "
                  "untagged only)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nlink_state = \"up\"\n",
                  "vfhook.toml:4: pool 'p': link_state: 'up' is not \"auto\", \"enable\" or "
                  "\"disable\""},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nmode = \"vm\"\n",
                  "vfhook.toml:4: pool 'p': mode: 'vm' is not \"vf\" or \"pf\""},
        BadConfig{"[[pool]]\nname = \"p\"\nmode = \"pf\"\npfs = [\"enp1s0\"]\nvlans = "
                  "[\"100\"]\n",
                  "vfhook.toml:5: pool 'p': vlans: not allowed in a mode = \"pf\" pool (its "
                  "PFs are given whole)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\n\nvf_range = \"0-3\"\nmode = "
                  "\"pf\"\n",
                  "vfhook.toml:5: pool 'p': vf_range: not allowed in a mode = \"pf\" pool (its "
                  "PFs are given whole)"},
        // A whole device is never teamed (only an <interface type='hostdev'> can be).
        BadConfig{"[[pool]]\nname = \"p\"\nmode = \"pf\"\npfs = [\"enp1s0\"]\nfailover = "
                  "true\n",
                  "vfhook.toml:5: pool 'p': failover: not allowed in a mode = \"pf\" pool (its "
                  "PFs are given whole)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nfailover = \"yes\"\n",
                  "vfhook.toml:4: pool 'p': failover: expected true or false, got a string"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nspoofchk = \"yes\"\n",
                  "vfhook.toml:4: pool 'p': spoofchk: expected true or false, got a string"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\ntrust = true\n",
                  "vfhook.toml:4: pool 'p': trust = true as a default needs allow_trust = "
                  "true"},
        // A pool default that turns spoof checking off for every port needs the pool to
        // allow it, like trust: refused at load, naming the line, not at every start.
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nspoofchk = false\n",
                  "vfhook.toml:4: pool 'p': spoofchk = false as a default needs "
                  "allow_spoofchk_off = true (a VF without spoof checking may send frames "
                  "with any source MAC)"},
        BadConfig{"[[pool]]\nname = \"p\"\npfs = [\"enp1s0\"]\nallow_spoofchk_off = 1\n",
                  "vfhook.toml:4: pool 'p': allow_spoofchk_off: expected true or false, got an "
                  "integer"},
        BadConfig{"state_dir = \"var/lib\"\n",
                  "vfhook.toml:1: state_dir: 'var/lib' is not an absolute path without '..'"},
        BadConfig{"state_dir = \"/var/../etc\"\n",
                  "vfhook.toml:1: state_dir: '/var/../etc' is not an absolute path without "
                  "'..'"},
        BadConfig{"pool = 3\n", "vfhook.toml:1: pool: expected [[pool]] tables"},
        // No config key selects a fake backend: the [test] section of old test beds is refused.
        BadConfig{"[test]\nnetlink_fake = \"/tmp/x.json\"\n",
                  "vfhook.toml:1: unknown key 'test' (allowed: state_dir, host_bridge_vlans, "
                  "[[pool]])"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

// Installed as /etc/vfhook/vfhook.toml by the package: it must define no pool (installing
// changes nothing), and each commented-out pool must be valid once its '#' is removed.
TEST(Config, TheShippedExampleDefinesNoPoolAndItsCommentedPoolsAreValid) {
  std::ifstream file(VFHOOK_SOURCE_DIR "/hooks/vfhook.toml.example");
  ASSERT_TRUE(file);
  std::stringstream text;
  text << file.rdbuf();
  auto as_shipped = parse_config(text.str(), "vfhook.toml.example");
  ASSERT_TRUE(as_shipped) << as_shipped.error().message;
  EXPECT_TRUE(as_shipped->pools.empty());
  EXPECT_EQ(as_shipped->state_dir, "/var/lib/vfhook");

  // '#' directly before a key or a table header comments out a setting; '# ' starts a note.
  std::string uncommented;
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '#') line.erase(0, 1);
    uncommented += line + "\n";
  }
  auto config = parse_config(uncommented, "vfhook.toml.example, uncommented");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->pools.size(), 3u);
  EXPECT_EQ(config->pools[0].mode, PoolMode::vf);
  EXPECT_FALSE(config->pools[0].allow_spoofchk_off);
  EXPECT_TRUE(config->pools[0].spoofchk);
  EXPECT_TRUE(config->pools[1].flat);
  EXPECT_EQ(config->pools[2].mode, PoolMode::pf);
  EXPECT_EQ(config->host_bridge_vlans.size(), 1u);
}

TEST(Config, SyntaxErrorsNameTheLine) {
  auto config = parse_config("state_dir = \"/x\"\n\nhost_bridge_vlans = [1,\n", "vfhook.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(config.error().message.rfind("vfhook.toml:3: ", 0), 0u) << config.error().message;

  auto duplicate = parse_config("state_dir = \"/x\"\nstate_dir = \"/y\"\n", "vfhook.toml");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message.rfind("vfhook.toml:2: ", 0), 0u) << duplicate.error().message;
}

}  // namespace
}  // namespace vfhook
