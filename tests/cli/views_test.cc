// vfctl's views: the JSON parses and carries what the operator and scripts look for.
#include "cli/views.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-c/json.h>

#include "engine/operations.h"
#include "testing/engine_bed.h"

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

TEST(Views, ErrorJsonCarriesKindAndMessage) {
  json_object* root =
      json_tokener_parse(error_json(Error{ErrorKind::policy, "refused \"x\"", 0}).c_str());
  ASSERT_NE(root, nullptr);
  json_object* error = member(root, "error");
  EXPECT_STREQ(json_object_get_string(member(error, "kind")), "policy");
  EXPECT_STREQ(json_object_get_string(member(error, "message")), "refused \"x\"");
  json_object_put(root);
}

}  // namespace
}  // namespace vfhook
