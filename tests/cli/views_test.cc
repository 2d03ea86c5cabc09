// vfctl's views: the JSON parses and carries what the operator and scripts look for.
#include "cli/views.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-c/json.h>

#include "cli/pf_neighbors.h"
#include "engine/operations.h"
#include "testing/engine_bed.h"
#include "testing/fake_clock.h"
#include "testing/fake_lldp.h"
#include "tests/lldp/frames.h"

namespace vfhook {
namespace {

using ::testing::HasSubstr;

json_object* member(json_object* object, const char* key) {
  json_object* value = nullptr;
  EXPECT_TRUE(json_object_object_get_ex(object, key, &value)) << key;
  return value;
}

TEST(Views, StatusShowsEveryVfWithItsUseAndOwner) {
  testing::EngineBed bed;
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    VF_TRY(txn.add_claim(Claim{bed.vf(1), "web1", "provider", "enp1s0", 1}));
    return txn.add_reservation(Reservation{bed.vf(2), "db1", "provider"});
  }));
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  ASSERT_EQ(pools->size(), 1u);
  EXPECT_EQ((*pools)[0].free_vfs, 5);

  json_object* root = json_tokener_parse(status_json(*pools).c_str());
  ASSERT_NE(root, nullptr);
  json_object* pool = json_object_array_get_idx(member(root, "pools"), 0);
  EXPECT_STREQ(json_object_get_string(member(pool, "name")), "provider");
  json_object* pf = json_object_array_get_idx(member(pool, "pfs"), 0);
  EXPECT_STREQ(json_object_get_string(member(pf, "netdev")), "enp1s0");
  EXPECT_STREQ(json_object_get_string(member(pf, "link")), "up");
  json_object* vfs = member(pf, "vfs");
  ASSERT_EQ(json_object_array_length(vfs), 7u);
  json_object* vf1 = json_object_array_get_idx(vfs, 1);
  EXPECT_STREQ(json_object_get_string(member(vf1, "use")), "claimed");
  EXPECT_STREQ(json_object_get_string(member(vf1, "domain")), "web1");
  json_object* vf2 = json_object_array_get_idx(vfs, 2);
  EXPECT_STREQ(json_object_get_string(member(vf2, "use")), "reserved");
  EXPECT_STREQ(json_object_get_string(member(vf2, "domain")), "db1");
  json_object* vf3 = json_object_array_get_idx(vfs, 3);
  EXPECT_STREQ(json_object_get_string(member(vf3, "use")), "free");
  EXPECT_EQ(json_object_get_type(member(vf3, "domain")), json_type_null);
  json_object_put(root);

  std::string text = status_text(*pools);
  EXPECT_THAT(text, HasSubstr("pool provider (vf): 5 free"));
  EXPECT_THAT(text, HasSubstr("web1"));
}

TEST(Views, AnUnknownPoolIsNotFound) {
  testing::EngineBed bed;
  auto pools = read_inventory(bed.ctx(), std::string("nope"));
  ASSERT_FALSE(pools);
  EXPECT_EQ(pools.error().kind, ErrorKind::not_found);
}

TEST(Views, APfThatDoesNotResolveIsShownNotFatal) {
  testing::EngineBed bed;
  bed.set_config(std::string(testing::kProviderPoolToml) +
                 "[[pool]]\nname = \"typo\"\npfs = [\"enp9s9\"]\nvlans = [\"200-299\"]\n");
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  ASSERT_EQ(pools->size(), 2u);
  ASSERT_EQ((*pools)[1].pfs.size(), 1u);
  EXPECT_FALSE((*pools)[1].pfs[0].pf);
  EXPECT_THAT((*pools)[1].pfs[0].problem, HasSubstr("enp9s9"));
  EXPECT_THAT(status_text(*pools), HasSubstr("PF enp9s9: "));
}

template <size_t N>
LldpNeighbor neighbor_in(const uint8_t (&frame)[N]) {
  auto parsed = parse_lldp_frame(std::span<const uint8_t>(frame, N));
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed.value_or(LldpNeighbor{});
}

// The "lldp" member of the first PF of the first pool in status_json (the caller puts root).
json_object* first_pf_lldp(json_object* root) {
  json_object* pool = json_object_array_get_idx(member(root, "pools"), 0);
  json_object* pf = json_object_array_get_idx(member(pool, "pfs"), 0);
  return member(pf, "lldp");
}

TEST(Views, StatusShowsTheSwitchPortEachPfIsCabledTo) {
  testing::EngineBed bed;
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  testing::FakeLldpNeighbors lldpd;
  lldpd.answers.emplace("enp1s0", std::vector{neighbor_in(testing::kCiscoFrame)});
  const PfNeighbors lldp = neighbors_of_pfs(*pools, lldpd);
  EXPECT_THAT(lldpd.asked, ::testing::ElementsAre("enp1s0"));

  const std::string text = status_text(*pools, lldp);
  EXPECT_THAT(text, HasSubstr("SWITCH/PORT"));
  EXPECT_THAT(text, HasSubstr("sw-core-1.example.net/Gi1/0/12"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("no LLDP data")));

  json_object* root = json_tokener_parse(status_json(*pools, lldp).c_str());
  ASSERT_NE(root, nullptr);
  json_object* pf_lldp = first_pf_lldp(root);
  EXPECT_EQ(json_object_get_type(member(pf_lldp, "no_data")), json_type_null);
  json_object* neighbors = member(pf_lldp, "neighbors");
  ASSERT_EQ(json_object_array_length(neighbors), 1u);
  json_object* n = json_object_array_get_idx(neighbors, 0);
  EXPECT_STREQ(json_object_get_string(member(n, "switch")), "sw-core-1.example.net");
  EXPECT_STREQ(json_object_get_string(member(n, "port")), "Gi1/0/12");
  EXPECT_STREQ(json_object_get_string(member(n, "chassis_id")), "00:1b:54:aa:bb:cc");
  EXPECT_STREQ(json_object_get_string(member(n, "chassis_id_subtype")), "mac");
  EXPECT_STREQ(json_object_get_string(member(n, "port_id_subtype")), "ifname");
  EXPECT_STREQ(json_object_get_string(member(n, "port_description")), "GigabitEthernet1/0/12");
  EXPECT_EQ(json_object_get_int(member(n, "port_vlan_id")), 110);
  EXPECT_EQ(json_object_get_int(member(n, "ttl")), 120);
  EXPECT_STREQ(
      json_object_get_string(json_object_array_get_idx(member(n, "management_addresses"), 0)),
      "192.0.2.11");
  json_object_put(root);
}

TEST(Views, NoLldpDataIsANoteWithTheReasonNotAFailure) {
  testing::EngineBed bed;
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  testing::FakeLldpNeighbors lldpd;
  lldpd.otherwise = fail(ErrorKind::not_found, "lldpd: Unable to connect to lldpd daemon");
  const PfNeighbors lldp = neighbors_of_pfs(*pools, lldpd);

  const std::string text = status_text(*pools, lldp);
  EXPECT_THAT(text, HasSubstr("no LLDP data for enp1s0: lldpd: Unable to connect to lldpd daemon"));
  EXPECT_THAT(text, HasSubstr("VFs of PF enp1s0:"));  // the rest of the status is there

  json_object* root = json_tokener_parse(status_json(*pools, lldp).c_str());
  ASSERT_NE(root, nullptr);
  json_object* pf_lldp = first_pf_lldp(root);
  EXPECT_STREQ(json_object_get_string(member(pf_lldp, "no_data")),
               "lldpd: Unable to connect to lldpd daemon");
  EXPECT_EQ(json_object_array_length(member(pf_lldp, "neighbors")), 0u);
  json_object_put(root);

  lldpd.otherwise = std::vector<LldpNeighbor>{};  // lldpd runs and heard nothing
  EXPECT_THAT(status_text(*pools, neighbors_of_pfs(*pools, lldpd)), HasSubstr("none heard"));
}

TEST(Views, WithoutAnLldpSourceTheColumnSaysNotAsked) {
  testing::EngineBed bed;
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  json_object* root = json_tokener_parse(status_json(*pools).c_str());
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(json_object_get_type(first_pf_lldp(root)), json_type_null);
  json_object_put(root);
}

// --lldp-listen's path without the OS: the PFs of the inventory listened on, then shown.
TEST(Views, StatusAfterListeningShowsWhatEachPfHeard) {
  testing::EngineBed bed;
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  FakeClock clock;
  testing::ScriptedLldpFrameSockets sockets(clock);
  sockets.arrive(
      std::chrono::seconds(7), "enp1s0",
      std::vector<uint8_t>(std::begin(testing::kLldpdFrame), std::end(testing::kLldpdFrame)));
  auto heard =
      HeardLldpNeighbors::listen(sockets, clock, pf_netdevs(*pools), std::chrono::seconds(30));
  EXPECT_THAT(sockets.opened, ::testing::ElementsAre("enp1s0"));
  EXPECT_THAT(status_text(*pools, neighbors_of_pfs(*pools, *heard)),
              HasSubstr("lab-host-b/enp1s0"));
}

TEST(Views, NeighbourTextIsShownOnceEscapedAndNeverRaw) {
  testing::EngineBed bed;
  auto pools = read_inventory(bed.ctx(), std::nullopt);
  ASSERT_TRUE(pools) << pools.error().message;
  LldpNeighbor neighbor;
  neighbor.chassis = {4, "00:1b:54:aa:bb:cc"};
  neighbor.port = {5, "p1"};
  neighbor.system_name = "sw\x1b[2J";  // raw: a source that broke its contract
  testing::FakeLldpNeighbors lldpd;
  lldpd.otherwise = std::vector{neighbor};
  const std::string text = status_text(*pools, neighbors_of_pfs(*pools, lldpd));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_THAT(text, HasSubstr("sw\\x1b[2J/p1"));
  // What the parser already made printable is not escaped a second time.
  neighbor.system_name = "sw\\x1b[2J";
  lldpd.otherwise = std::vector{neighbor};
  EXPECT_THAT(status_text(*pools, neighbors_of_pfs(*pools, lldpd)), HasSubstr("sw\\x1b[2J/p1"));
}

TEST(Views, ErrorJsonCarriesKindAndMessage) {
  json_object* root =
      json_tokener_parse(error_json(Error{ErrorKind::policy, "refused \"x\"", 0}).c_str());
  ASSERT_NE(root, nullptr);
  json_object* error = member(root, "error");
  EXPECT_STREQ(json_object_get_string(member(error, "kind")), "policy");
  EXPECT_STREQ(json_object_get_string(member(error, "message")), "refused \"x\"");
  json_object_put(root);
}

TEST(Views, ClaimsShowEachHolderWithItsVfOrWholeDevice) {
  const std::vector<Claim> claims{
      Claim{*PciAddress::parse("0000:01:10.1"), "web1", "provider", "enp1s0", 1,
            MacAddress::parse_unicast("52:54:00:aa:bb:01").value()},
      Claim{*PciAddress::parse("0000:05:00.0"), "db1", "whole", "", -1}};
  EXPECT_EQ(claims_text(claims),
            "DOMAIN  POOL      VF            PF              INDEX  MAC\n"
            "web1    provider  0000:01:10.1  enp1s0          1      52:54:00:aa:bb:01\n"
            "db1     whole     0000:05:00.0  (whole device)  -      -\n");
  EXPECT_EQ(claims_text({}), "no claims\n");

  json_object* root = json_tokener_parse(claims_json(claims).c_str());
  ASSERT_NE(root, nullptr);
  json_object* list = member(root, "claims");
  ASSERT_EQ(json_object_array_length(list), 2u);
  json_object* vf = json_object_array_get_idx(list, 0);
  EXPECT_STREQ(json_object_get_string(member(vf, "domain")), "web1");
  EXPECT_EQ(json_object_get_int(member(vf, "vf_index")), 1);
  EXPECT_STREQ(json_object_get_string(member(vf, "mac")), "52:54:00:aa:bb:01");
  json_object* whole = json_object_array_get_idx(list, 1);
  EXPECT_EQ(member(whole, "pf"), nullptr);
  EXPECT_EQ(member(whole, "vf_index"), nullptr);
  EXPECT_EQ(member(whole, "mac"), nullptr);
  json_object_put(root);
}

TEST(Views, PoolsAreListedByNameOneALine) {
  auto config = parse_config(
      "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n"
      "[[pool]]\nname = \"whole\"\nmode = \"pf\"\npfs = [\"0000:05:00.0\"]\n",
      "test.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(pool_names_text(*config), "provider\nwhole\n");
  EXPECT_EQ(pool_names_text(HostConfig{}), "");

  json_object* root = json_tokener_parse(pools_json(*config).c_str());
  ASSERT_NE(root, nullptr);
  json_object* list = member(root, "pools");
  ASSERT_EQ(json_object_array_length(list), 2u);
  json_object* whole = json_object_array_get_idx(list, 1);
  EXPECT_STREQ(json_object_get_string(member(whole, "mode")), "pf");
  EXPECT_STREQ(json_object_get_string(json_object_array_get_idx(member(whole, "pfs"), 0)),
               "0000:05:00.0");
  json_object_put(root);
}

}  // namespace
}  // namespace vfhook
