#include "hooks/fast_path.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/domain_marker_name.h"
#include "policy/config.h"
#include "tests/policy/temp_dir.h"

namespace vfhook {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FastPath, ParsesLibvirtsArgv) {
  const char* argv[] = {"vfhook", "vm1", "prepare", "begin", "-"};
  HookCall call;
  ASSERT_TRUE(parse_hook_call(5, argv, call));
  EXPECT_EQ(call.domain, "vm1");
  EXPECT_EQ(call.op, HookOp::prepare);
  EXPECT_EQ(call.subop, "begin");
  EXPECT_TRUE(call.config_path.empty());
}

TEST(FastPath, TakesAConfigPathFirst) {
  const char* argv[] = {"vfhook", "--config", "/tmp/x.toml", "vm1", "release", "end", "-"};
  HookCall call;
  ASSERT_TRUE(parse_hook_call(7, argv, call));
  EXPECT_EQ(call.config_path, "/tmp/x.toml");
  EXPECT_EQ(call.op, HookOp::release);
}

TEST(FastPath, RefusesAnythingElse) {
  HookCall call;
  const char* too_few[] = {"vfhook", "vm1", "prepare", "begin"};
  EXPECT_FALSE(parse_hook_call(4, too_few, call));
  const char* empty_domain[] = {"vfhook", "", "prepare", "begin", "-"};
  EXPECT_FALSE(parse_hook_call(5, empty_domain, call));
  const char* empty_config[] = {"vfhook", "--config", "", "vm1", "prepare", "begin", "-"};
  EXPECT_FALSE(parse_hook_call(7, empty_config, call));
}

TEST(FastPath, ADomainWithoutVfsNeedsNoWorkButTheClaimsAtReleaseAndReconnect) {
  std::string xml = read_file(VFHOOK_SOURCE_DIR "/bench/no_vf_domain.xml");
  ASSERT_FALSE(xml.empty());
  for (HookOp op : {HookOp::prepare, HookOp::start, HookOp::started, HookOp::stopped,
                    HookOp::migrate, HookOp::restore, HookOp::other})
    EXPECT_EQ(decide_work(op, xml), Work::none) << to_string(op);
  // A VF detached with virsh detach-device, or chosen by a hostdev network (the fixture's
  // <interface type='network'> could be one), shows nowhere in the XML: the claims know.
  EXPECT_EQ(decide_work(HookOp::release, xml), Work::claims);
  EXPECT_EQ(decide_work(HookOp::reconnect, xml), Work::claims);
}

// A migration or restore vfhook cannot re-allocate must be aborted: its VF ports would arrive
// with the source host's PCI addresses. A running guest must never be killed for vfhook's sake.
TEST(FastPath, FailuresAbortStartsMigrationsAndRestoresButNeverARunningGuest) {
  for (HookOp op : {HookOp::prepare, HookOp::start, HookOp::migrate, HookOp::restore})
    EXPECT_EQ(failure_exit_status(op), 1) << to_string(op);
  for (HookOp op :
       {HookOp::started, HookOp::stopped, HookOp::release, HookOp::reconnect, HookOp::other})
    EXPECT_EQ(failure_exit_status(op), 0) << to_string(op);
}

TEST(FastPath, AnyHostdevFormOrPortRecordNeedsTheCore) {
  for (const char* xml :
       {"<domain><devices><interface type='hostdev'/></devices></domain>",
        "<domain><devices><hostdev mode='subsystem' type='pci'/></devices></domain>",
        "<domain><devices><interface type='network'><actual type='hostdev'/></interface>"
        "</devices></domain>",
        "<domain><metadata><p:ports xmlns:p=\"urn:vfhook:ports:1\"/></metadata></domain>"}) {
    EXPECT_EQ(decide_work(HookOp::prepare, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::start, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::release, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::reconnect, xml), Work::full) << xml;
    // The destination of a migration (or a restore) re-allocates the VFs.
    EXPECT_EQ(decide_work(HookOp::migrate, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::restore, xml), Work::full) << xml;
    EXPECT_EQ(decide_work(HookOp::started, xml), Work::none) << xml;
  }
}

// ---- what the fast path cannot read -------------------------------------------------------

// A domain without any VF, as the fast path would see it, with `head` before <domain>.
std::string no_vf_domain(const std::string& head = "", const std::string& inside = "") {
  return head + "<domain type='kvm'><name>web</name>" + inside +
         "<devices><interface type='bridge'><source bridge='br0'/></interface></devices>"
         "</domain>\n";
}

void expect_every_vf_event_needs_the_core(const std::string& xml, const std::string& what) {
  for (HookOp op : {HookOp::prepare, HookOp::start, HookOp::reconnect, HookOp::release})
    EXPECT_EQ(decide_work(op, xml), Work::full) << what << " at " << to_string(op);
  EXPECT_EQ(decide_work(HookOp::started, xml), Work::none) << what;
}

TEST(FastPath, ReadsPlainUtf8WithoutReferences) {
  EXPECT_EQ(decide_work(HookOp::prepare, no_vf_domain()), Work::none);
  EXPECT_EQ(decide_work(HookOp::prepare, no_vf_domain("\xef\xbb\xbf")), Work::none) << "UTF-8 BOM";
  for (const char* declaration :
       {"<?xml version='1.0'?>\n", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n",
        "<?xml version='1.0' encoding = \"US-ASCII\"?>\n",
        "<?xml version='1.0' encoding='ascii'?>"})
    EXPECT_EQ(decide_work(HookOp::prepare, no_vf_domain(declaration)), Work::none) << declaration;
  // Predefined entities cannot spell a name: &lt; &gt; &amp; &apos; &quot; stay plain.
  EXPECT_EQ(decide_work(HookOp::prepare,
                        no_vf_domain("", "<description>a &amp; b &lt;c&gt;</description>")),
            Work::none);
}

TEST(FastPath, HandsWhatItCannotReadToTheCore) {
  // A character reference spells 'hostdev' without the bytes "hostdev".
  expect_every_vf_event_needs_the_core(no_vf_domain("", "<x type='&#104;ostdev'/>"),
                                       "a decimal character reference");
  expect_every_vf_event_needs_the_core(no_vf_domain("", "<x type='&#x68;ostdev'/>"),
                                       "a hex character reference");
  expect_every_vf_event_needs_the_core(no_vf_domain() + std::string(1, '\0'), "a NUL byte");
  for (const std::string& bom : {std::string("\xfe\xff", 2), std::string("\xff\xfe", 2),
                                 std::string("\0\0\xfe\xff", 4), std::string("\xff\xfe\0\0", 4)})
    expect_every_vf_event_needs_the_core(bom + no_vf_domain(), "a UTF-16/32 byte order mark");
  // UTF-16 without a BOM: libxml2 detects it from "<\0?\0".
  std::string utf16;
  for (char ch : no_vf_domain("<?xml version='1.0'?>")) utf16 += std::string{ch, '\0'};
  expect_every_vf_event_needs_the_core(utf16, "UTF-16LE without a BOM");
  for (const char* declaration :
       {"<?xml version='1.0' encoding='UTF-7'?>", "<?xml version='1.0' encoding='ISO-8859-1'?>",
        "<?xml version='1.0' encoding='UTF-16'?>", "<?xml version='1.0' encoding='EBCDIC-US'?>",
        "<?xml version='1.0' encoding=UTF-8?>", "<?xml version='1.0' encoding='UTF-8"})
    expect_every_vf_event_needs_the_core(no_vf_domain(declaration), declaration);
  // EBCDIC: no '<' where XML starts.
  expect_every_vf_event_needs_the_core("\x4c\x6f\xa7\x94" + no_vf_domain(), "not '<' first");
  expect_every_vf_event_needs_the_core(no_vf_domain("<!DOCTYPE domain [<!ENTITY h 'hostdev'>]>"),
                                       "a DOCTYPE");
  expect_every_vf_event_needs_the_core(no_vf_domain("", "<!ENTITY h 'x'>"), "an ENTITY");
}

// ---- the state directory, from the config's text --------------------------------------------

std::string state_dir_of(std::string_view config) {
  std::string_view dir;
  if (!find_state_dir(config, dir)) return "(unsure)";
  return std::string(dir);
}

TEST(FindStateDir, ReadsTheTopLevelLine) {
  EXPECT_EQ(state_dir_of("state_dir = \"/srv/vfhook\"\n"), "/srv/vfhook");
  EXPECT_EQ(state_dir_of("state_dir='/srv/vfhook'   # comment\r\n"), "/srv/vfhook");
  EXPECT_EQ(state_dir_of("# vfhook\n\n  state_dir\t=  \"/srv/x\"\nhost_bridge_vlans = [\"1-99\"]\n"
                         "[[pool]]\nname = \"p\"\n"),
            "/srv/x");
  EXPECT_EQ(state_dir_of(read_file(VFHOOK_SOURCE_DIR "/hooks/vfhook.toml.example")),
            "/var/lib/vfhook");
}

TEST(FindStateDir, WithoutATopLevelLineIsTheDefault) {
  EXPECT_EQ(kDefaultStateDir, HostConfig{}.state_dir) << "front end and core must agree";
  EXPECT_EQ(state_dir_of(""), "/var/lib/vfhook");
  EXPECT_EQ(state_dir_of("host_bridge_vlans = [\"1-99\"]\n"), "/var/lib/vfhook");
  // In a table, a state_dir key is not the top-level one (the core refuses it anyway).
  EXPECT_EQ(state_dir_of("[test]\nstate_dir = \"/elsewhere\"\n"), "/var/lib/vfhook");
  // A multi-line array whose lines start with '[' is not a table header.
  EXPECT_EQ(state_dir_of("host_bridge_vlans = [\n  [1],\n  \"]#\",\n]\nstate_dir = \"/srv/a\"\n"),
            "/srv/a");
}

TEST(FindStateDir, IsUnsureOfWhatItDoesNotFollow) {
  for (std::string_view config : {
           "\"state_dir\" = \"/srv/a\"\n",                  // quoted key
           "state_dir.x = \"/srv/a\"\n",                    // dotted key
           "state_dir = \"/srv/\\u0061\"\n",                // escapes
           "state_dir = \"\"\"/srv/a\"\"\"\n",              // multi-line string
           "state_dir = '''/srv/a'''\n",                    // multi-line literal
           "x = \"\"\"\nstate_dir = \"/srv/a\"\n\"\"\"\n",  // a line inside a multi-line string
           "state_dir = \"/srv/a\"\nstate_dir = \"/srv/b\"\n", "state_dir = \"/srv/a\" junk\n",
           "state_dir = /srv/a\n", "state_dir = \"relative\"\n", "state_dir = \"/srv/../etc\"\n",
           "state_dir = \"/srv/a\n",             // unterminated
           "host_bridge_vlans = [\n\"1-99\"\n",  // unterminated array
           "garbage\n",
           "\xef\xbb\xbfstate_dir = \"/srv/a\"\n",  // a BOM
       })
    EXPECT_EQ(state_dir_of(config), "(unsure)") << config;
  EXPECT_EQ(state_dir_of(std::string_view("state_dir = \"/srv/a\"\n\0", 22)), "(unsure)");
}

// ---- marker names ----------------------------------------------------------------------------

std::string marker_name(std::string_view domain) {
  char out[kMaxMarkerNameBytes + 1];
  size_t length = encode_domain_marker_name(domain, out, sizeof out);
  return length == 0 ? "(none)" : std::string(out, length);
}

TEST(DomainMarkerName, SafeNamesAsTheyAreOthersInHex) {
  EXPECT_EQ(marker_name("vm1"), "vm1");
  EXPECT_EQ(marker_name("web-frontend_03.example+x"), "web-frontend_03.example+x");
  EXPECT_EQ(marker_name("../x"), "%2e2e2f78");
  EXPECT_EQ(marker_name(".hidden"), "%2e68696464656e");
  EXPECT_EQ(marker_name("-x"), "%2d78");
  EXPECT_EQ(marker_name("%41"), "%253431") << "the prefix of hex names is never plain";
  EXPECT_EQ(marker_name("a b"), "%612062");
  EXPECT_EQ(marker_name("caf\xc3\xa9"), "%636166c3a9");
  EXPECT_EQ(marker_name(""), "(none)");
  EXPECT_EQ(marker_name(std::string(255, 'a')), std::string(255, 'a'));
  EXPECT_EQ(marker_name(std::string(127, ' ')).size(), 255u);
  EXPECT_EQ(marker_name(std::string(128, ' ')), "(none)") << "longer than a file name";
}

TEST(DomainMarkerName, PathsFitOrAreRefused) {
  char out[32];
  ASSERT_EQ(domain_marker_path("/s", "vm1", out, sizeof out), 14u);
  EXPECT_STREQ(out, "/s/domains/vm1");
  ASSERT_EQ(domain_marker_dir("/s", out, sizeof out), 10u);
  EXPECT_STREQ(out, "/s/domains");
  EXPECT_EQ(domain_marker_path("/s", "a-domain-name-too-long", out, sizeof out), 0u);
}

// ---- deciding by the marker ------------------------------------------------------------------

class DecideByClaims : public ::testing::Test {
 protected:
  void SetUp() override {
    write_config("state_dir = \"" + state_dir() + "\"\n");
    std::filesystem::create_directories(dir.path() / "state/domains");
  }
  std::string state_dir() const { return (dir.path() / "state").string(); }
  std::string config() const { return dir.file("vfhook.toml"); }
  void write_config(const std::string& text,
                    std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                  std::filesystem::perms::owner_write) {
    std::ofstream(config(), std::ios::trunc) << text;
    std::filesystem::permissions(config(), mode);
  }
  void mark(const std::string& name) { std::ofstream(dir.path() / "state/domains" / name).flush(); }
  Work decide(std::string_view domain) { return decide_by_claims(config().c_str(), domain); }

  testing::TempDir dir;
};

TEST_F(DecideByClaims, NoMarkerNoWork) {
  EXPECT_EQ(decide("vm1"), Work::none);
  mark("vm1");
  EXPECT_EQ(decide("vm1"), Work::full);
  EXPECT_EQ(decide("vm2"), Work::none);
  mark("%2e2e2f78");
  EXPECT_EQ(decide("../x"), Work::full);
}

TEST_F(DecideByClaims, FullWhenUnsure) {
  EXPECT_EQ(decide(std::string(200, ' ')), Work::full) << "a name without a marker";
  std::filesystem::remove(dir.path() / "state/domains");
  EXPECT_EQ(decide("vm1"), Work::full) << "markers directory missing: claims may predate it";
  std::filesystem::create_directories(dir.path() / "state/domains");
  EXPECT_EQ(decide_by_claims(dir.file("missing.toml").c_str(), "vm1"), Work::full);
  EXPECT_EQ(decide_by_claims(dir.path().c_str(), "vm1"), Work::full) << "a directory";
  write_config("state_dir = \"" + state_dir() + "\"\n",
               std::filesystem::perms::owner_all | std::filesystem::perms::others_write);
  EXPECT_EQ(decide("vm1"), Work::full) << "world-writable";
  write_config("\"state_dir\" = \"" + state_dir() + "\"\n");
  EXPECT_EQ(decide("vm1"), Work::full) << "not read with confidence";
  write_config("state_dir = \"" + state_dir() + "\"\n#" +
               std::string(kMaxFrontEndConfigBytes, 'x'));
  EXPECT_EQ(decide("vm1"), Work::full) << "too big to read here";
  write_config("state_dir = \"" + state_dir() + "\"\n");
  EXPECT_EQ(decide("vm1"), Work::none);
}

}  // namespace
}  // namespace vfhook
