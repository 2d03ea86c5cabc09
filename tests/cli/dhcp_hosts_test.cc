// vfctl dhcp-hosts: port records' IPs as DHCP reservations, from the definitions the fake
// libvirt holds, in each format; and --write's file handling (fake and real files).
#include "cli/dhcp_hosts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli/port_commands.h"
#include "cli/views.h"
#include "testing/engine_bed.h"
#include "testing/fake_libvirt.h"
#include "testing/memory_text_files.h"

namespace vfhook {
namespace {

using ::testing::ElementsAre;
using testing::EngineBed;
using testing::FakeLibvirt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MemoryTextFiles;

// A domain with hostdev interfaces (mac, alias, ip ("" for none), pool) and their records.
struct Port {
  std::string mac;
  std::string alias;
  std::string ip;
  std::string pool = "provider";
};
std::string domain(const std::string& name, const std::vector<Port>& ports) {
  std::string devices, records;
  int vf = 0;
  for (const Port& p : ports) {
    char address[96];
    std::snprintf(address, sizeof address,
                  "<address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x%d'/>",
                  vf++);
    devices += "<interface type='hostdev' managed='no'><mac address='" + p.mac + "'/><source>" +
               address + "</source><alias name='" + p.alias + "'/></interface>";
    records += "<vfhook:port alias='" + p.alias + "' pool='" + p.pool + "' vlan='120'" +
               (p.ip.empty() ? "" : " ip='" + p.ip + "'") + "/>";
  }
  return "<domain type='kvm'><name>" + name +
         "</name><metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'>" + records +
         "</vfhook:ports></metadata><devices>" + devices + "</devices></domain>";
}

class DhcpHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bed.set_config(std::string(testing::kProviderPoolToml) +
                   "[[pool]]\nname = \"storage\"\npfs = [\"enp1s0x\"]\nflat = true\n");
    // Listed out of order on purpose: the output is sorted.
    libvirt.add_domain(domain("web2", {{"0a:00:00:00:00:21", "ua-net0", "192.0.2.21"}}));
    libvirt.add_domain(domain("web1", {{"0a:00:00:00:00:12", "ua-net1", "192.0.2.12"},
                                       {"0a:00:00:00:00:11", "ua-net0", "192.0.2.11"},
                                       {"0a:00:00:00:00:13", "ua-net2", ""}}));
    libvirt.add_domain(domain("v6", {{"0a:00:00:00:00:61", "ua-net0", "2001:db8::61"}}));
    libvirt.add_domain(
        domain("db1", {{"0a:00:00:00:00:31", "ua-net0", "198.51.100.31", "storage"}}));
  }

  DhcpHosts collect(DhcpFormat format, std::optional<std::string> pool = std::nullopt) {
    auto hosts = collect_dhcp_hosts(pool, format, libvirt, bed.ctx());
    EXPECT_TRUE(hosts) << hosts.error().message;
    return hosts ? *hosts : DhcpHosts{};
  }

  EngineBed bed;
  FakeLibvirt libvirt;
};

TEST_F(DhcpHostsTest, DnsmasqConfLinesSortedWithTheDomainNameOnItsFirstPort) {
  DhcpHosts hosts = collect(DhcpFormat::dnsmasq);
  EXPECT_EQ(hosts.text,
            "# DHCP reservations of vfhook's VF ports, written by `vfctl dhcp-hosts`.\n"
            "dhcp-host=0a:00:00:00:00:31,198.51.100.31,db1\n"
            "dhcp-host=0a:00:00:00:00:61,[2001:db8::61],v6\n"
            "dhcp-host=0a:00:00:00:00:11,192.0.2.11,web1\n"
            "dhcp-host=0a:00:00:00:00:12,192.0.2.12\n"
            "dhcp-host=0a:00:00:00:00:21,192.0.2.21,web2\n");
  EXPECT_THAT(hosts.problems, IsEmpty());
  EXPECT_THAT(hosts.other_family, IsEmpty());
}

TEST_F(DhcpHostsTest, DnsmasqHostsfileLinesForOnePool) {
  DhcpHosts hosts = collect(DhcpFormat::dnsmasq_hostsfile, "storage");
  EXPECT_EQ(hosts.text,
            "# DHCP reservations of vfhook's VF ports, written by `vfctl dhcp-hosts`.\n"
            "0a:00:00:00:00:31,198.51.100.31,db1\n");
}

TEST_F(DhcpHostsTest, KeaGetsIpv4ReservationsAndKea6TheIpv6Ones) {
  DhcpHosts v4 = collect(DhcpFormat::kea, "provider");
  EXPECT_EQ(v4.hosts.size(), 3u);
  EXPECT_THAT(v4.text, HasSubstr("\"hw-address\":\"0a:00:00:00:00:11\""));
  EXPECT_THAT(v4.text, HasSubstr("\"ip-address\":\"192.0.2.11\""));
  EXPECT_THAT(v4.text, HasSubstr("\"hostname\":\"web1\""));
  EXPECT_EQ(v4.text.find("2001:db8"), std::string::npos);
  EXPECT_EQ(v4.text.front(), '[');
  ASSERT_EQ(v4.other_family.size(), 1u);
  EXPECT_THAT(v4.other_family[0], HasSubstr("domain 'v6'"));
  EXPECT_THAT(v4.other_family[0], HasSubstr("use --format kea6"));
  EXPECT_THAT(v4.problems, IsEmpty());

  DhcpHosts v6 = collect(DhcpFormat::kea6);
  ASSERT_EQ(v6.hosts.size(), 1u);
  EXPECT_THAT(v6.text, HasSubstr("\"ip-addresses\":[\n      \"2001:db8::61\"\n    ]"));
  EXPECT_EQ(v6.text.find("\"ip-address\":"), std::string::npos);
}

TEST_F(DhcpHostsTest, LibvirtHostElements) {
  DhcpHosts hosts = collect(DhcpFormat::libvirt, "provider");
  EXPECT_THAT(hosts.text, HasSubstr("<host mac='0a:00:00:00:00:11' name='web1' ip='192.0.2.11'/>\n"
                                    "<host mac='0a:00:00:00:00:12' ip='192.0.2.12'/>\n"));
  EXPECT_EQ(hosts.other_family.size(), 1u);  // libvirt's IPv6 hosts take no MAC
}

TEST_F(DhcpHostsTest, ADuplicateIpIsLeftOutAndReported) {
  libvirt.add_domain(domain("web3", {{"0a:00:00:00:00:41", "ua-net0", "192.0.2.11"}}));
  DhcpHosts hosts = collect(DhcpFormat::dnsmasq);
  EXPECT_EQ(hosts.text.find("0a:00:00:00:00:41"), std::string::npos);
  ASSERT_EQ(hosts.problems.size(), 1u);
  EXPECT_THAT(hosts.problems[0], HasSubstr("domain 'web3'"));
  EXPECT_THAT(hosts.problems[0], HasSubstr("domain 'web1' port ua-net0"));
  EXPECT_THAT(hosts.problems[0], HasSubstr("same IP"));
}

TEST_F(DhcpHostsTest, AnUnknownPoolIsAnError) {
  auto hosts = collect_dhcp_hosts(std::string("nope"), DhcpFormat::dnsmasq, libvirt, bed.ctx());
  ASSERT_FALSE(hosts);
  EXPECT_THAT(hosts.error().message, HasSubstr("no pool 'nope'"));
}

TEST_F(DhcpHostsTest, WriteReplacesTheFileOnlyWhenItChanges) {
  MemoryTextFiles files;
  const std::string path = "/etc/dnsmasq.d/vfhook.conf";
  DhcpHosts hosts = collect(DhcpFormat::dnsmasq);
  auto first = write_dhcp_hosts(hosts, path, files);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->written);
  EXPECT_EQ(files.files.at(path), hosts.text);

  auto second = write_dhcp_hosts(collect(DhcpFormat::dnsmasq), path, files);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->written);
  EXPECT_THAT(files.replaced, ElementsAre(path));
  EXPECT_THAT(dhcp_update_text(hosts, *second), HasSubstr("is up to date (5 reservations)"));

  // A port added with an IP changes the file once.
  libvirt.add_domain(domain("web4", {{"0a:00:00:00:00:51", "ua-net0", "192.0.2.51"}}));
  auto third = write_dhcp_hosts(collect(DhcpFormat::dnsmasq), path, files);
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->written);
  EXPECT_THAT(files.replaced, ElementsAre(path, path));
  EXPECT_THAT(files.files.at(path), HasSubstr("192.0.2.51"));
}

TEST_F(DhcpHostsTest, AFailedWriteLeavesTheOldFileAndSaysWhere) {
  MemoryTextFiles files;
  files.files["/x/hosts"] = "old\n";
  files.fail_next_replace = Error{ErrorKind::os, "rename: Read-only file system", 30};
  auto written = write_dhcp_hosts(collect(DhcpFormat::dnsmasq), "/x/hosts", files);
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error().message, HasSubstr("writing the DHCP reservations to /x/hosts"));
  EXPECT_EQ(files.files.at("/x/hosts"), "old\n");
}

TEST_F(DhcpHostsTest, JsonListsHostsProblemsAndTheFile) {
  DhcpHosts hosts = collect(DhcpFormat::kea);
  const std::string json = dhcp_hosts_json(hosts, DhcpFileUpdate{"/f", true});
  EXPECT_THAT(json, HasSubstr("\"format\":\"kea\""));
  EXPECT_THAT(json, HasSubstr("\"domain\":\"web1\""));
  EXPECT_THAT(json, HasSubstr("\"other_family\":["));
  EXPECT_THAT(json, HasSubstr("\"written\":true"));
}

// The real files: a new file, an unchanged one left alone (same inode, same mtime), a changed
// one swapped by rename (a new inode, the old mode kept).
TEST(RealTextFiles, ReplacesAtomicallyAndLeavesAnUnchangedFileAlone) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "hosts").string();
  RealTextFiles files;
  auto none = files.read(path, 1024);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  auto first = update_file(files, path, "a\n");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);

  auto same = update_file(files, path, "a\n");
  ASSERT_TRUE(same);
  EXPECT_FALSE(*same);
  struct stat unchanged {};
  ASSERT_EQ(::stat(path.c_str(), &unchanged), 0);
  EXPECT_EQ(unchanged.st_ino, before.st_ino);

  auto changed = update_file(files, path, "b\n");
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);  // a new file renamed over the old one
  EXPECT_EQ(after.st_mode & 07777, 0640u);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "b\n");
  // No temporary file is left beside it.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(RealTextFiles, RefusesToReplaceADirectory) {
  testing::TempDir dir;
  RealTextFiles files;
  auto replaced = files.replace(dir.path().string(), "x");
  ASSERT_FALSE(replaced);
  EXPECT_THAT(replaced.error().message, HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace vfhook
