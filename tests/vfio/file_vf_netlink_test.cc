#include "testing/fake_vf_netlink.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <thread>

#include "testing/fake_sysfs_tree.h"
#include "vfio/vf_control.h"

namespace vfhook {
namespace {

namespace fs = std::filesystem;

class FileVfNetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path = dir.path() / "netlink.json";
    std::ofstream(path) << "{}";
    RecordingVfNetlink initial;
    initial.add_pf("enp1s0", 2, true, 8);
    initial.add_pf("enp2s0", 3, false, 2);
    initial.refuse(VfAttribute::trust, EOPNOTSUPP, "enp2s0");
    initial.ignore(VfAttribute::spoofchk, "enp2s0");
    ASSERT_TRUE(FileVfNetlink::save(path, initial));
  }
  void write_text(const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

  testing::TempDir dir;
  fs::path path;
};

TEST_F(FileVfNetlinkTest, AppliesAndRecordsAcrossObjects) {
  {
    FileVfNetlink netlink(path);
    VfSettings settings;
    settings.mac = *MacAddress::parse("52:54:00:00:00:07");
    settings.vlan = Vlan{100, 2, VlanProtocol::dot1ad};
    settings.trust = true;
    ASSERT_TRUE(apply_vf_settings(netlink, "enp1s0", 5, settings));
  }
  FileVfNetlink reader(path);
  auto pf = reader.read_pf("enp1s0");
  ASSERT_TRUE(pf) << pf.error().message;
  EXPECT_EQ(pf->ifindex, 2);
  EXPECT_TRUE(pf->admin_up);
  ASSERT_EQ(pf->vfs.size(), 8u);
  EXPECT_EQ(pf->vfs[5].mac.to_string(), "52:54:00:00:00:07");
  EXPECT_EQ(pf->vfs[5].vlan, (Vlan{100, 2, VlanProtocol::dot1ad}));
  EXPECT_EQ(pf->vfs[5].trust, true);
  auto state = FileVfNetlink::load(path);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->requests(), (std::vector<std::string>{
                                   "set_mac enp1s0 5 52:54:00:00:00:07",
                                   "set_vlan enp1s0 5 100 qos 2 proto 802.1ad",
                                   "set_trust enp1s0 5 on",
                               }));
}

TEST_F(FileVfNetlinkTest, FaultsFromTheFileApply) {
  FileVfNetlink netlink(path);
  auto trust = netlink.set_trust("enp2s0", 0, true);
  ASSERT_FALSE(trust);
  EXPECT_EQ(trust.error().sys_errno, EOPNOTSUPP);
  VfSettings settings;
  settings.spoofchk = false;
  auto st = apply_vf_settings(netlink, "enp2s0", 1, settings);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("did not stick"), std::string::npos);
  // Refused requests are recorded too.
  EXPECT_EQ(FileVfNetlink::load(path)->requests().front(), "set_trust enp2s0 0 on");
}

TEST_F(FileVfNetlinkTest, ParsesTheDocumentedFormat) {
  write_text(R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"refuse":{"trust":95},
      "vfs":[{"mac":"52:54:00:00:00:01","vlan":10,"qos":1,"proto":"802.1Q","spoofchk":false,
              "trust":null,"link_state":"disable","min_tx_rate":5,"max_tx_rate":50}]}},
      "requests":["earlier"]})");
  FileVfNetlink netlink(path);
  auto pf = netlink.read_pf("enp1s0");
  ASSERT_TRUE(pf) << pf.error().message;
  ASSERT_EQ(pf->vfs.size(), 1u);
  const VfState& vf = pf->vfs[0];
  EXPECT_EQ(vf.mac.to_string(), "52:54:00:00:00:01");
  EXPECT_EQ(vf.vlan, (Vlan{10, 1, VlanProtocol::dot1q}));
  EXPECT_FALSE(vf.spoofchk);
  EXPECT_EQ(vf.trust, std::nullopt);
  EXPECT_EQ(vf.link_state, LinkState::disable);
  EXPECT_EQ(vf.min_tx_rate, 5u);
  EXPECT_EQ(vf.max_tx_rate, 50u);
  EXPECT_EQ(netlink.set_trust("enp1s0", 0, true).error().sys_errno, 95);
  EXPECT_EQ(FileVfNetlink::load(path)->requests(),
            (std::vector<std::string>{"earlier", "set_trust enp1s0 0 on"}));
}

TEST_F(FileVfNetlinkTest, MalformedStateIsRefused) {
  const char* cases[] = {
      "",
      "not json",
      "[]",
      R"({"pfs":{}} trailing)",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[]}})",  // unterminated
      R"({"pfs":{},"extra":1})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true}}})",
      R"({"pfs":{"enp1s0":{"ifindex":"2","up":true,"vfs":[]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":0,"up":true,"vfs":[]}}})",
      R"({"pfs":{"../etc":{"ifindex":2,"up":true,"vfs":[]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[{"vlan":4096}]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[{"vlan":1.5}]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[{"mac":"52:54:00"}]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[{"proto":"802.1x"}]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[{"colour":"red"}]}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[],"refuse":{"speed":1}}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[],"refuse":{"trust":0}}}})",
      R"({"pfs":{"enp1s0":{"ifindex":2,"up":true,"vfs":[],"ignore":[1]}}})",
      R"({"pfs":{},"requests":[1]})",
      R"({"pfs":{"a":{"ifindex":2,"up":true,"vfs":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}}})",
  };
  for (const char* text : cases) {
    write_text(text);
    FileVfNetlink netlink(path);
    auto pf = netlink.read_pf("enp1s0");
    ASSERT_FALSE(pf) << text;
    EXPECT_EQ(pf.error().kind, ErrorKind::invalid_input) << text << ": " << pf.error().message;
    // A refused file is left as it was.
    std::ifstream in(path);
    std::string now((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(now, text);
  }
}

TEST_F(FileVfNetlinkTest, MissingFileIsAnErrorAndIsNotCreated) {
  FileVfNetlink netlink(dir.path() / "absent.json");
  auto st = netlink.set_trust("enp1s0", 0, true);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, ENOENT);
  EXPECT_FALSE(fs::exists(dir.path() / "absent.json"));
}

TEST_F(FileVfNetlinkTest, ConcurrentProcessesLoseNoUpdate) {
  constexpr int kProcesses = 8;
  constexpr int kCallsEach = 15;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FileVfNetlink netlink(path);
      bool good = true;
      for (int i = 0; i < kCallsEach; ++i) {
        good = good && netlink
                           .set_rates("enp1s0", p, static_cast<uint32_t>(i),
                                      static_cast<uint32_t>(1000 + i))
                           .has_value();
      }
      ::_exit(good ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto state = FileVfNetlink::load(path);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->requests().size(), static_cast<size_t>(kProcesses * kCallsEach));
  for (int p = 0; p < kProcesses; ++p) {
    const VfState& vf = state->pfs().at("enp1s0").vfs[p];
    EXPECT_EQ(vf.max_tx_rate, 1000u + kCallsEach - 1) << p;
  }
}

TEST_F(FileVfNetlinkTest, ConcurrentThreadsLoseNoUpdate) {
  constexpr int kThreads = 4;
  constexpr int kCallsEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      FileVfNetlink netlink(path);  // each opens its own descriptor: flock() applies
      for (int i = 0; i < kCallsEach; ++i) {
        EXPECT_TRUE(
            netlink.set_link_state("enp1s0", t, i % 2 ? LinkState::enable : LinkState::disable));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(FileVfNetlink::load(path)->requests().size(),
            static_cast<size_t>(kThreads * kCallsEach));
}

}  // namespace
}  // namespace vfhook
