#include "engine/domain_marker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tests/policy/temp_dir.h"

namespace vfhook {
namespace {

namespace fs = std::filesystem;

class DomainMarker : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(dir.file("vfhook.db"));
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }

  std::set<std::string> markers() const {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir.path() / "domains", ec))
      names.insert(entry.path().filename().string());
    return names;
  }

  void claim(const std::string& domain, const char* vf) {
    ASSERT_TRUE(store->transaction([&](StoreTransaction& txn) {
      return txn.add_claim(Claim{*PciAddress::parse(vf), domain, "p", "enp1s0", 0});
    }));
  }
  void unclaim(const char* vf) {
    ASSERT_TRUE(store->transaction(
        [&](StoreTransaction& txn) { return txn.remove_claim(*PciAddress::parse(vf)); }));
  }
  std::vector<Claim> claims() {
    std::vector<Claim> all;
    EXPECT_TRUE(store->transaction([&](StoreTransaction& txn) -> Status {
      VF_ASSIGN(found, txn.claims());
      all = found;
      return ok();
    }));
    return all;
  }

  testing::TempDir dir;
  std::unique_ptr<Store> store;
};

TEST_F(DomainMarker, TheFirstMarkerBringsOneForEveryClaimThatPredatesMarkers) {
  claim("old1", "0000:01:10.0");
  claim("old/2", "0000:01:10.2");
  ASSERT_FALSE(fs::exists(dir.path() / "domains"));
  ASSERT_TRUE(mark_domain(dir.path().string(), "vm1", claims()));
  EXPECT_EQ(markers(), (std::set<std::string>{"old1", "%6f6c642f32", "vm1"}));
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find("domains."), std::string::npos)
        << "a temporary directory left behind: " << entry.path();
}

TEST_F(DomainMarker, SyncKeepsTheMarkersOfHoldersAndRemovesTheOthers) {
  claim("vm1", "0000:01:10.0");
  claim("vm2", "0000:01:10.2");
  ASSERT_TRUE(mark_domain(dir.path().string(), "vm1", claims()));
  ASSERT_EQ(markers(), (std::set<std::string>{"vm1", "vm2"}));
  unclaim("0000:01:10.0");
  ASSERT_TRUE(sync_domain_markers(dir.path().string(), {"vm1", "vm2", "vm3"}, *store));
  EXPECT_EQ(markers(), (std::set<std::string>{"vm2"}));
}

TEST_F(DomainMarker, SyncCreatesTheDirectoryAndAMissingMarker) {
  claim("vm1", "0000:01:10.0");
  ASSERT_TRUE(sync_domain_markers(dir.path().string(), {"vm2"}, *store));
  EXPECT_EQ(markers(), (std::set<std::string>{"vm1"}));
  fs::remove(dir.path() / "domains" / "vm1");
  ASSERT_TRUE(sync_domain_markers(dir.path().string(), {"vm1"}, *store));
  EXPECT_EQ(markers(), (std::set<std::string>{"vm1"}));
}

TEST_F(DomainMarker, ANameTooLongForAFileHasNone) {
  std::string long_name(200, '\xe4');
  ASSERT_TRUE(mark_domain(dir.path().string(), long_name, claims()));
  EXPECT_TRUE(markers().empty());
}

TEST_F(DomainMarker, FailsWhenTheMarkerCannotBeWritten) {
  std::ofstream(dir.path() / "domains") << "a file where the directory should be";
  auto marked = mark_domain(dir.path().string(), "vm1", claims());
  ASSERT_FALSE(marked);
  EXPECT_NE(marked.error().message.find("domain marker"), std::string::npos)
      << marked.error().message;
}

}  // namespace
}  // namespace vfhook
