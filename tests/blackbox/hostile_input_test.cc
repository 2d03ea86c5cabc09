// Hostile and broken input at the hook's boundary (argv, stdin, the config file): a clear
// error, a non-zero exit, no crash, nothing read that should not be, and the host unchanged.
// Also the front end's fast path: a domain without VF work never loads the core.
#include <sys/stat.h>

#include <fstream>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Prepares `xml` as "evil" and checks the refusal: exit 1, `message` on stderr, the host as it
// was, no request sent.
void expect_refused_unchanged(HookTest& test, TestBed& bed, const std::string& xml,
                              const std::string& message) {
  (void)test;
  const auto before = bed.fingerprint();
  HookResult result = bed.hook("evil", "prepare", xml);
  EXPECT_EQ(result.term_signal, 0) << result.err;
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr(message));
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(bed.requests(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, ExternalEntityIsNeitherReadNorEchoed) {
  const auto secret = bed.root() / "secret.txt";
  std::ofstream(secret) << "TOPSECRET-4f1c9e";
  const std::string xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE domain [\n  <!ENTITY xxe SYSTEM \"file://" +
      secret.string() + "\">\n]>\n<domain type='kvm'><name>&xxe;</name><devices>" +
      hostdev_xml(vfs[0], false) + "</devices></domain>\n";
  const auto before = bed.fingerprint();
  HookResult result = bed.hook("evil", "prepare", xml);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("DOCTYPE"));
  EXPECT_THAT(result.err + result.out, Not(HasSubstr("TOPSECRET")));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, BillionLaughsIsRefusedWithoutExpanding) {
  std::string entities = "  <!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    std::string previous = i == 1 ? "lol" : "lol" + std::to_string(i - 1);
    std::string refs;
    for (int j = 0; j < 10; ++j) refs += "&" + previous + ";";
    entities += "  <!ENTITY lol" + std::to_string(i) + " \"" + refs + "\">\n";
  }
  const std::string xml = "<!DOCTYPE domain [\n" + entities +
                          "]>\n<domain type='kvm'><name>&lol9;</name><devices>" +
                          hostdev_xml(vfs[0], false) + "</devices></domain>\n";
  expect_refused_unchanged(*this, bed, xml, "DOCTYPE");
}

struct HostileXml {
  std::string name;
  std::string devices;
  std::string records;
  std::string message;
};

// ctest lists a case by its name, not by the bytes of the struct.
void PrintTo(const HostileXml& input, std::ostream* os) {
  *os << input.name;
}

class HostileXmlTest : public HookTest, public ::testing::WithParamInterface<HostileXml> {};

TEST_P(HostileXmlTest, IsRefusedAndChangesNothing) {
  const HostileXml& input = GetParam();
  expect_refused_unchanged(*this, bed, domain_xml("evil", input.devices, input.records),
                           input.message);
}

std::string hostdev_with_address(const std::string& attributes) {
  return "<hostdev mode='subsystem' type='pci' managed='no'><source><address " + attributes +
         "/></source></hostdev>\n";
}

std::string interface_with(const std::string& mac_text, const std::string& inner) {
  return "<interface type='hostdev' managed='no'><mac address='" + mac_text +
         "'/><source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' "
         "function='0x0'/></source>" +
         inner + "</interface>\n";
}

const HostileXml kHostileXml[] = {
    {"BusNotHex", hostdev_with_address("domain='0x0000' bus='0x1zz' slot='0x10' function='0x0'"),
     "", "refused"},
    {"SlotOutOfRange",
     hostdev_with_address("domain='0x0000' bus='0x01' slot='0x20' function='0x0'"), "", "refused"},
    {"FunctionOutOfRange",
     hostdev_with_address("domain='0x0000' bus='0x01' slot='0x10' function='0x8'"), "", "refused"},
    {"TraversalInDomain",
     hostdev_with_address("domain='../../../etc' bus='0x01' slot='0x10' function='0x0'"), "",
     "refused"},
    {"TraversalInBus",
     hostdev_with_address("domain='0x0000' bus='0x01/../../' slot='0x10' function='0x0'"), "",
     "refused"},
    {"MissingSlot", hostdev_with_address("domain='0x0000' bus='0x01' function='0x0'"), "",
     "refused"},
    {"TraversalInAlias",
     interface_with("52:54:00:ee:00:01",
                    "<vlan><tag id='110'/></vlan><alias name='../../etc/passwd'/>"),
     "", "alias '../../etc/passwd' refused"},
    {"TraversalInPoolName", interface_with("52:54:00:ee:00:01", "<vlan><tag id='110'/></vlan>"),
     port_record_xml(R"(mac="52:54:00:ee:00:01" pool="../../etc" vlan="110")"), "refused"},
    {"TraversalInRecordHost", hostdev_xml(pci("0000:01:10.0"), false),
     port_record_xml(R"(host="0000:01:10.0/../.." pool="provider" vlan="110")"), "refused"},
    {"VlanTag4095", interface_with("52:54:00:ee:00:01", "<vlan><tag id='4095'/></vlan>"), "",
     "VLAN tag id='4095' refused"},
    {"VlanTagNegative", interface_with("52:54:00:ee:00:01", "<vlan><tag id='-1'/></vlan>"), "",
     "VLAN tag id='-1' refused"},
    {"RecordVlan4095", interface_with("52:54:00:ee:00:01", ""),
     port_record_xml(R"(mac="52:54:00:ee:00:01" pool="provider" vlan="4095")"), "4095"},
    {"RecordVlanNegative", interface_with("52:54:00:ee:00:01", ""),
     port_record_xml(R"(mac="52:54:00:ee:00:01" pool="provider" vlan="-1")"), "-1"},
    {"VlanTrunk",
     interface_with("52:54:00:ee:00:01", "<vlan trunk='yes'><tag id='110'/><tag id='120'/></vlan>"),
     "", "trunk refused"},
    {"MulticastMac", interface_with("01:00:5e:00:00:01", "<vlan><tag id='110'/></vlan>"), "",
     "01:00:5e:00:00:01"},
    {"ZeroMac", interface_with("00:00:00:00:00:00", "<vlan><tag id='110'/></vlan>"), "",
     "00:00:00:00:00:00"},
    {"RecordMulticastMacForHostdev", hostdev_xml(pci("0000:01:10.0"), false),
     port_record_xml(R"(host="0000:01:10.0" mac="33:33:00:00:00:01" pool="provider" vlan="110")"),
     "33:33:00:00:00:01"},
    {"UnknownRecordAttribute", interface_with("52:54:00:ee:00:01", "<vlan><tag id='110'/></vlan>"),
     port_record_xml(R"(mac="52:54:00:ee:00:01" pool="provider" vlan="110" exec="rm -rf /")"),
     "unknown attribute 'exec'"},
    {"ManagedGarbage",
     "<hostdev mode='subsystem' type='pci' managed='maybe'><source>" +
         pci_address_xml(pci("0000:01:10.0")) + "</source></hostdev>\n",
     "", "managed='maybe' refused"},
};

INSTANTIATE_TEST_SUITE_P(Prepare, HostileXmlTest, ::testing::ValuesIn(kHostileXml),
                         [](const auto& info) { return info.param.name; });

TEST_F(HookTest, DomainNameWithASlashIsRefused) {
  std::string xml = domain_xml("../../evil", hostdev_xml(vfs[0], false));
  expect_refused_unchanged(*this, bed, xml, "refused");
}

// A VF port against policy (VLAN 50 belongs to the host's bridges) that the fast path cannot
// see unless it reads the XML as libxml2 does: each form must still reach the policy.
std::string host_bridge_vlan_port(const std::string& type_attribute) {
  return "<interface " + type_attribute + " managed='no'><mac address='52:54:00:ee:00:01'/>" +
         "<source>" + pci_address_xml(pci("0000:01:10.0")) + "</source>" +
         "<vlan><tag id='50'/></vlan></interface>\n";
}

TEST_F(HookTest, CharacterReferencesDoNotHideAVfPort) {
  for (const char* type : {"type='&#104;ostdev'", "type='&#x68;ostdev'", "type='h&#111;stdev'"}) {
    const std::string xml = domain_xml("evil", host_bridge_vlan_port(type));
    ASSERT_THAT(xml, Not(HasSubstr("hostdev"))) << type;
    expect_refused_unchanged(*this, bed, xml, "reserved for the host's own bridges");
  }
}

TEST_F(HookTest, AUtf16DocumentDoesNotHideAVfPort) {
  const std::string utf8 = "<?xml version='1.0' encoding='UTF-16'?>\n" +
                           domain_xml("evil", host_bridge_vlan_port("type='hostdev'"));
  std::string utf16 = "\xff\xfe";  // little-endian, with its byte order mark
  for (char ch : utf8) utf16 += std::string{ch, '\0'};
  expect_refused_unchanged(*this, bed, utf16, "refused");
}

// ---- the domain's name, from argv --------------------------------------------------------------

TEST_F(HookTest, ANameThatDiffersFromTheXmlsIsRefused) {
  const std::string xml = two_port_domain(vfs);  // <name>vm1</name>
  const auto before = bed.fingerprint();
  for (const char* op : {"prepare", "start"}) {
    HookResult result = bed.hook("vm2", op, xml);
    EXPECT_EQ(result.exit_code, 1) << op << ": " << explain(result);
    EXPECT_THAT(result.err, AllOf(HasSubstr("'vm2'"), HasSubstr("'vm1'"))) << op;
  }
  // At reconnect it is reported, the guest kept, and nothing re-claimed for either name.
  HookResult reconnected = bed.hook("vm2", "reconnect", xml);
  EXPECT_EQ(reconnected.exit_code, 0) << explain(reconnected);
  EXPECT_THAT(reconnected.err, HasSubstr("'vm1'"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, ANameVfhookCannotStoreIsRefusedAndShownEscaped) {
  struct Case {
    std::string name, shown;
  };
  for (const Case& c :
       {Case{"../x", "'../x'"}, Case{"vm\n1 forged line", "'vm\\x0a1 forged line'"},
        Case{"vm\x1b[31mred", "'vm\\x1b[31mred'"}, Case{std::string(256, 'a'), "256 bytes"}}) {
    // The XML carries the same name wherever XML can: only the argv check can catch these.
    const std::string xml = domain_xml("vm1", hostdev_xml(vfs[0], false));
    const auto before = bed.fingerprint();
    HookResult result = bed.hook(c.name, "prepare", xml);
    EXPECT_EQ(result.exit_code, 1) << explain(result);
    EXPECT_THAT(result.err, HasSubstr(c.shown));
    EXPECT_THAT(result.err, Not(HasSubstr("\x1b")));
    EXPECT_THAT(result.err, Not(HasSubstr("\n1 forged")));
    EXPECT_THAT(bed.claims(), IsEmpty());
    EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
  }
}

TEST_F(HookTest, NotADomainIsRefused) {
  expect_refused_unchanged(*this, bed, "<hostdev>no domain here</hostdev>", "refused");
  expect_refused_unchanged(*this, bed, "<domain><name>x</name><devices><hostdev", "refused");
}

TEST_F(HookTest, OversizedStdinIsRefusedAfterBeingRead) {
  // A real VF domain first (so the fast path cannot skip it), then 5 MiB of comment.
  std::string xml = domain_xml("big", hostdev_xml(vfs[0], false));
  xml.insert(xml.find("</domain>"), "<!--" + std::string(5 << 20, 'x') + "-->\n");
  ASSERT_GT(xml.size(), 4u << 20);
  const auto before = bed.fingerprint();
  // hook() feeds stdin from a writer thread through a pipe, as libvirt does.
  HookResult result = bed.hook("big", "prepare", xml);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("larger than 4 MiB"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, OversizedStdinIsRefusedEvenIfItsStartShowsNoVf) {
  // The VF port comes after 5 MiB of comment, beyond what the hook reads: unseen, not absent.
  std::string xml =
      domain_xml("big", "<!--" + std::string(5 << 20, 'x') + "-->\n" + hostdev_xml(vfs[0], false));
  const auto before = bed.fingerprint();
  HookResult result = bed.hook("big", "prepare", xml);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("larger than 4 MiB"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

// libxml2 2.9 handles the attributes of one element in quadratic time: 150,000 of them kept the
// hook busy for minutes. Such a document is refused before libxml2 sees it.
class AttributeHeavyXmlTest : public HookTest, public ::testing::WithParamInterface<int> {};

TEST_P(AttributeHeavyXmlTest, IsRefusedNamingTheLimit) {
  std::string attributes;
  for (int i = 0; i < GetParam(); ++i) attributes += " a" + std::to_string(i) + "=''";
  const std::string xml =
      domain_xml("evil", hostdev_xml(vfs[0], false) + "<shmem" + attributes + "/>\n");
  ASSERT_LT(xml.size(), 4u << 20);
  expect_refused_unchanged(*this, bed, xml, "more than 256 attributes");
  // At reconnect the same document is reported, and the guest kept.
  HookResult reconnected = bed.hook("evil", "reconnect", xml);
  EXPECT_EQ(reconnected.exit_code, 0) << reconnected.err;
  EXPECT_THAT(reconnected.err, HasSubstr("more than 256 attributes"));
}

INSTANTIATE_TEST_SUITE_P(Attributes, AttributeHeavyXmlTest, ::testing::Values(5000, 150000));

class WritableConfigTest : public HookTest, public ::testing::WithParamInterface<mode_t> {};

TEST_P(WritableConfigTest, IsRefusedAtPrepare) {
  ASSERT_EQ(::chmod(bed.config_path().c_str(), GetParam()), 0);
  const auto before = bed.fingerprint();
  HookResult result = bed.hook("vm1", "prepare", two_port_domain(vfs));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err,
              AllOf(HasSubstr(bed.config_path().string()), HasSubstr("writable by group/others")));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
  EXPECT_THAT(bed.requests(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Modes, WritableConfigTest, ::testing::Values(0664, 0646, 0666),
                         [](const auto& info) {
                           char name[16];
                           std::snprintf(name, sizeof name, "Mode%04o", info.param);
                           return std::string(name);
                         });

TEST_F(HookTest, ArgvGarbagePrintsUsageAndExitsTwo) {
  const std::string xml = two_port_domain(vfs);
  const std::string cfg = bed.config_path().string();
  const std::vector<std::vector<std::string>> garbage = {
      {},
      {"vm1"},
      {"vm1", "prepare", "begin"},
      {"vm1", "prepare", "begin", "-", "extra"},
      {"--config"},
      {"--config", cfg},
      {"--config", cfg, "vm1", "prepare", "begin"},
      {"--config", "", "vm1", "prepare", "begin", "-"},
      {"", "prepare", "begin", "-"},
      {"--config", cfg, "", "prepare", "begin", "-"},
  };
  const auto before = bed.fingerprint();
  for (const auto& args : garbage) {
    std::vector<std::string> argv = {hook_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    HookResult result = run_command(argv, xml);
    std::string shown;
    for (const auto& a : args) shown += "'" + a + "' ";
    EXPECT_EQ(result.exit_code, 2) << shown << result.err;
    EXPECT_THAT(result.err, HasSubstr("usage: vfhook")) << shown;
  }
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

// ---- the fast path -------------------------------------------------------------------------

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(VFHOOK_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(HookTest, DomainWithoutVfsNeverLoadsTheCore) {
  const std::string xml = read_source_file("bench/no_vf_domain.xml");
  ASSERT_THAT(xml, HasSubstr("<domain"));
  ASSERT_THAT(xml, Not(HasSubstr("hostdev")));
  const std::string missing = (bed.root() / "no-such-dir/vfhook.toml").string();
  for (const char* op : {"prepare", "start", "started", "stopped"}) {
    HookResult result =
        run_command({hook_binary(), "--config", missing, "web-frontend-03", op, "begin", "-"}, xml);
    EXPECT_EQ(result.exit_code, 0) << op << ": " << result.err;
    EXPECT_EQ(result.err, "") << op;
    EXPECT_EQ(result.out, "") << op;
  }
}

TEST_F(HookTest, DomainWithAVfAndAMissingConfigFailsNamingTheConfig) {
  const std::string missing = (bed.root() / "no-such-dir/vfhook.toml").string();
  const auto before = bed.fingerprint();
  HookResult result = run_command(
      {hook_binary(), "--config", missing, "vm1", "prepare", "begin", "-"}, two_port_domain(vfs));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr(missing));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
  // At release the same failure is reported but does not fail the event.
  HookResult release = run_command(
      {hook_binary(), "--config", missing, "vm1", "release", "end", "-"}, two_port_domain(vfs));
  EXPECT_EQ(release.exit_code, 0) << release.err;
  EXPECT_THAT(release.err, HasSubstr(missing));
}

}  // namespace
}  // namespace vfhook::blackbox
