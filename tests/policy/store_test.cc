#include "policy/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "temp_dir.h"

namespace vfhook {
namespace {

PciAddress vf(int slot, int function) {
  return PciAddress{0, 1, static_cast<uint8_t>(slot), static_cast<uint8_t>(function)};
}

Claim claim_of(const PciAddress& address, const std::string& domain, int index = 2) {
  return Claim{address, domain, "provider", "enp1s0", index};
}

// PRAGMA user_version, read straight from the file.
int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const int64_t version = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(path_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  Status run(const std::function<Status(StoreTransaction&)>& body) {
    return store_->transaction(body);
  }
  std::vector<Claim> claims() {
    std::vector<Claim> out;
    auto status = run([&](StoreTransaction& tx) -> Status {
      VF_ASSIGN(all, tx.claims());
      out = all;
      return ok();
    });
    EXPECT_TRUE(status) << status.error().message;
    return out;
  }
  std::vector<Reservation> reservations() {
    std::vector<Reservation> out;
    auto status = run([&](StoreTransaction& tx) -> Status {
      VF_ASSIGN(all, tx.reservations());
      out = all;
      return ok();
    });
    EXPECT_TRUE(status) << status.error().message;
    return out;
  }
  // Writes straight into the database, as a corrupted or hostile file would hold it.
  void raw_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  }

  testing::TempDir dir_;
  std::string path_ = dir_.file("vfhook.db");
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreatesTheDatabaseOnlyItsOwnerCanRead) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, ClaimsAndReleases) {
  const Claim a = claim_of(vf(0x10, 2), "web1", 2);
  const Claim b = claim_of(vf(0x10, 3), "web2", 3);
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(b));
    return tx.add_claim(a);
  }));
  EXPECT_EQ(claims(), (std::vector<Claim>{a, b}));  // ordered by VF

  ASSERT_TRUE(run([&](StoreTransaction& tx) { return tx.remove_claim(a.vf); }));
  EXPECT_EQ(claims(), (std::vector<Claim>{b}));
  // Releasing again is not an error: release hooks may run twice.
  EXPECT_TRUE(run([&](StoreTransaction& tx) { return tx.remove_claim(a.vf); }));
}

TEST_F(StoreTest, WholePfClaimKeepsItsMarkers) {
  const Claim whole{PciAddress{0, 5, 0, 1}, "big", "whole", "", -1};
  ASSERT_TRUE(run([&](StoreTransaction& tx) { return tx.add_claim(whole); }));
  EXPECT_EQ(claims(), (std::vector<Claim>{whole}));
}

TEST_F(StoreTest, SecondClaimOfAVfNamesTheHolder) {
  ASSERT_TRUE(
      run([&](StoreTransaction& tx) { return tx.add_claim(claim_of(vf(0x10, 2), "web1")); }));
  for (const char* domain : {"web2", "web1"}) {
    auto status =
        run([&](StoreTransaction& tx) { return tx.add_claim(claim_of(vf(0x10, 2), domain)); });
    ASSERT_FALSE(status) << domain;
    EXPECT_EQ(status.error().kind, ErrorKind::conflict);
    EXPECT_EQ(status.error().message, "VF 0000:01:10.2 is held by domain 'web1'");
  }
  EXPECT_EQ(claims(), (std::vector<Claim>{claim_of(vf(0x10, 2), "web1")}));
}

TEST_F(StoreTest, FailingTransactionLeavesNothing) {
  ASSERT_TRUE(run([&](StoreTransaction& tx) { return tx.add_claim(claim_of(vf(0x10, 5), "db")); }));
  // Two new claims, a reservation and a snapshot, then a conflicting claim: all rolled back.
  auto status = run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(claim_of(vf(0x10, 2), "web1")));
    VF_TRY(tx.add_claim(claim_of(vf(0x10, 3), "web1")));
    VF_TRY(tx.add_reservation(Reservation{vf(0x10, 2), "web1", "provider"}));
    VF_TRY(tx.save_snapshot(VfSnapshot{vf(0x10, 2), "igbvf", true, {}}));
    return tx.add_claim(claim_of(vf(0x10, 5), "web1"));
  });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "VF 0000:01:10.5 is held by domain 'db'");
  EXPECT_EQ(claims(), (std::vector<Claim>{claim_of(vf(0x10, 5), "db")}));
  EXPECT_TRUE(reservations().empty());
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(snapshot, tx.snapshot(vf(0x10, 2)));
    EXPECT_FALSE(snapshot);
    return ok();
  }));
}

TEST_F(StoreTest, FailureFromTheBodyItselfRollsBack) {
  auto status = run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(claim_of(vf(0x10, 2), "web1")));
    return fail(ErrorKind::policy, "VLAN 5 not allowed");
  });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "VLAN 5 not allowed");
  EXPECT_TRUE(claims().empty());
  // The store is usable afterwards: the transaction really ended.
  EXPECT_TRUE(run([&](StoreTransaction& tx) { return tx.add_claim(claim_of(vf(0x10, 2), "x")); }));
}

TEST_F(StoreTest, SnapshotRoundTripsAndTheFirstOneWins) {
  VfSnapshot first{vf(0x10, 2), "igbvf", true, {}};
  first.changed.mac = *MacAddress::parse("52:54:00:12:34:56");
  first.changed.vlan = Vlan{100, 3, VlanProtocol::dot1ad};
  first.changed.spoofchk = true;
  first.changed.trust = false;
  first.changed.link_state = LinkState::disable;
  first.changed.rates = VfSettings::Rates{100, 1000};
  VfSnapshot later{vf(0x10, 2), std::nullopt, false, {}};
  later.changed.trust = true;
  VfSnapshot unbound{vf(0x10, 3), std::nullopt, false, {}};

  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.save_snapshot(first));
    VF_TRY(tx.save_snapshot(unbound));
    return tx.save_snapshot(later);
  }));
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(got, tx.snapshot(vf(0x10, 2)));
    EXPECT_EQ(got, first);
    VF_ASSIGN(got_unbound, tx.snapshot(vf(0x10, 3)));
    EXPECT_EQ(got_unbound, unbound);
    VF_ASSIGN(none, tx.snapshot(vf(0x10, 4)));
    EXPECT_FALSE(none);
    VF_TRY(tx.remove_snapshot(vf(0x10, 2)));
    VF_ASSIGN(removed, tx.snapshot(vf(0x10, 2)));
    EXPECT_FALSE(removed);
    return ok();
  }));
  // After removal a new snapshot is taken again.
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.save_snapshot(later));
    VF_ASSIGN(got, tx.snapshot(vf(0x10, 2)));
    EXPECT_EQ(got, later);
    return ok();
  }));
}

TEST_F(StoreTest, ReservationsKeepAVfForOneDomain) {
  const Reservation r{vf(0x10, 2), "web1", "provider"};
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_reservation(r));
    return tx.add_reservation(r);  // the same reservation again: fine
  }));
  EXPECT_EQ(reservations(), (std::vector<Reservation>{r}));

  auto other = run([&](StoreTransaction& tx) {
    return tx.add_reservation(Reservation{vf(0x10, 2), "web2", "provider"});
  });
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::conflict);
  EXPECT_EQ(other.error().message, "VF 0000:01:10.2 is reserved for domain 'web1'");

  auto foreign_claim =
      run([&](StoreTransaction& tx) { return tx.add_claim(claim_of(vf(0x10, 2), "web2")); });
  ASSERT_FALSE(foreign_claim);
  EXPECT_EQ(foreign_claim.error().kind, ErrorKind::conflict);
  EXPECT_EQ(foreign_claim.error().message, "VF 0000:01:10.2 is reserved for domain 'web1'");
  EXPECT_TRUE(
      run([&](StoreTransaction& tx) { return tx.add_claim(claim_of(vf(0x10, 2), "web1")); }));

  ASSERT_TRUE(run([&](StoreTransaction& tx) { return tx.remove_reservation(r.vf); }));
  EXPECT_TRUE(reservations().empty());
}

TEST_F(StoreTest, ReopenedStoreSeesEverything) {
  VfSnapshot snapshot{vf(0x10, 2), "igbvf", true, {}};
  snapshot.changed.mac = *MacAddress::parse("52:54:00:00:00:01");
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(claim_of(vf(0x10, 2), "web1")));
    VF_TRY(tx.add_reservation(Reservation{vf(0x10, 2), "web1", "provider"}));
    return tx.save_snapshot(snapshot);
  }));
  store_.reset();
  auto reopened = Store::open(path_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_ = std::move(*reopened);
  EXPECT_EQ(claims(), (std::vector<Claim>{claim_of(vf(0x10, 2), "web1")}));
  EXPECT_EQ(reservations(), (std::vector<Reservation>{{vf(0x10, 2), "web1", "provider"}}));
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(got, tx.snapshot(vf(0x10, 2)));
    EXPECT_EQ(got, snapshot);
    return ok();
  }));
}

TEST_F(StoreTest, LockedDatabaseBecomesAConflictAfterTheBusyTimeout) {
  auto second = Store::open(path_, std::chrono::milliseconds(200));
  ASSERT_TRUE(second) << second.error().message;
  Status inner;
  ASSERT_TRUE(run([&](StoreTransaction&) -> Status {
    inner = (*second)->transaction([](StoreTransaction&) { return ok(); });
    return ok();
  }));
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().kind, ErrorKind::conflict);
  EXPECT_NE(inner.error().message.find("the claims database stayed locked for 200 ms"),
            std::string::npos)
      << inner.error().message;
  // Once the lock is gone the second connection works.
  EXPECT_TRUE((*second)->transaction([](StoreTransaction&) { return ok(); }));
}

TEST_F(StoreTest, RefusesCorruptRows) {
  raw_sql(
      "INSERT INTO claims (vf, domain, pool, pf, vf_index, claimed_at) VALUES "
      "('../../etc', 'web1', 'p', 'enp1s0', 1, 0)");
  auto status = run([](StoreTransaction& tx) { return tx.claims().map([](auto&&) {}); });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(status.error().message.find("claims row '../../etc'"), std::string::npos)
      << status.error().message;
}

TEST_F(StoreTest, RefusesACorruptClaimMac) {
  raw_sql(
      "INSERT INTO claims (vf, domain, pool, pf, vf_index, claimed_at, mac) VALUES "
      "('0000:01:10.2', 'web1', 'p', 'enp1s0', 2, 0, '52:54:00:zz:00:01')");
  auto status = run([](StoreTransaction& tx) { return tx.claims().map([](auto&&) {}); });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(status.error().message.find("claims row '0000:01:10.2': invalid MAC address"),
            std::string::npos)
      << status.error().message;
}

TEST_F(StoreTest, ClaimsKeepThePortMac) {
  Claim with_mac = claim_of(vf(0x10, 2), "web1", 2);
  with_mac.mac = *MacAddress::parse("52:54:00:aa:00:01");
  const Claim whole{PciAddress{0, 5, 0, 1}, "big", "whole", "", -1};  // no MAC
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(with_mac));
    return tx.add_claim(whole);
  }));
  EXPECT_EQ(claims(), (std::vector<Claim>{with_mac, whole}));
  store_.reset();
  store_ = std::move(*Store::open(path_));
  EXPECT_EQ(claims(), (std::vector<Claim>{with_mac, whole}));
}

TEST_F(StoreTest, TwoClaimsMayRecordTheSameMac) {
  // The store records; the engine decides whether two running domains may share a MAC.
  Claim a = claim_of(vf(0x10, 2), "web1", 2);
  Claim b = claim_of(vf(0x10, 3), "web2", 3);
  a.mac = b.mac = *MacAddress::parse("52:54:00:aa:00:01");
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(a));
    return tx.add_claim(b);
  }));
  EXPECT_EQ(claims(), (std::vector<Claim>{a, b}));
}

TEST_F(StoreTest, RefusesACorruptSnapshot) {
  raw_sql(
      "INSERT INTO snapshots (vf, driver, rebind_driver, vlan, qos, proto) VALUES "
      "('0000:01:10.2', 'igbvf', 1, 5000, 0, '802.1Q')");
  auto status = run([](StoreTransaction& tx) -> Status {
    VF_ASSIGN(s, tx.snapshot(PciAddress{0, 1, 0x10, 2}));
    return ok();
  });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(status.error().message.find("invalid vlan or qos"), std::string::npos);
}

TEST_F(StoreTest, RefusesANewerSchema) {
  store_.reset();
  raw_sql("PRAGMA user_version = 7");
  auto reopened = Store::open(path_);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(reopened.error().message.find("schema version 7"), std::string::npos)
      << reopened.error().message;
  EXPECT_EQ(user_version(path_), 7) << "a newer database is left as it is";
}

// Another opener holding a setup lock and never letting go: the state directory's (taken
// while the database is created and its schema written) or, as older vfhook versions did, the
// database file's.
// Boot ids as /proc/sys/kernel/random/boot_id has them.
constexpr const char* kBootA = "0b7e6f3c-2d41-4a8e-9c1f-5a3b2c1d0e9f";
constexpr const char* kBootB = "7f1d2e3c-4b5a-4968-8776-a5b4c3d2e1f0";

std::unique_ptr<Store> open_in_boot(const std::string& path, const std::string& boot_id) {
  StoreOptions options;
  options.boot_id = boot_id;
  auto store = Store::open(path, options);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

std::vector<Claim> claims_in(Store& store) {
  std::vector<Claim> out;
  auto status = store.transaction([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(all, tx.claims());
    out = all;
    return ok();
  });
  EXPECT_TRUE(status) << status.error().message;
  return out;
}

class StoreBoots : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::string path_ = dir_.file("vfhook.db");
};

TEST_F(StoreBoots, ClaimsOfAnEarlierBootAreDroppedWithTheirSnapshotsButNotReservations) {
  const Claim old_claim = claim_of(vf(0x10, 2), "web1", 2);
  VfSnapshot snapshot{vf(0x10, 2), "igbvf", true, {}};
  snapshot.changed.spoofchk = true;
  const Reservation reservation{vf(0x10, 2), "web1", "provider"};
  {
    auto store = open_in_boot(path_, kBootA);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->transaction([&](StoreTransaction& tx) -> Status {
      VF_TRY(tx.add_claim(old_claim));
      VF_TRY(tx.save_snapshot(snapshot));
      return tx.add_reservation(reservation);
    }));
  }
  {
    // The same boot again (the next hook process): nothing is dropped.
    auto store = open_in_boot(path_, kBootA);
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->dropped_claims().empty());
    EXPECT_EQ(claims_in(*store), (std::vector<Claim>{old_claim}));
  }
  // The host crashed and came back: release never ran.
  auto store = open_in_boot(path_, kBootB);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->dropped_claims(), (std::vector<Claim>{old_claim}));
  EXPECT_TRUE(claims_in(*store).empty());
  ASSERT_TRUE(store->transaction([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(got, tx.snapshot(vf(0x10, 2)));
    EXPECT_FALSE(got) << "the snapshot describes a VF the kernel has re-created since";
    VF_ASSIGN(kept, tx.reservations());
    EXPECT_EQ(kept, (std::vector<Reservation>{reservation}));
    // The VF is free for its domain in this boot.
    return tx.add_claim(old_claim);
  }));
  store.reset();
  auto again = open_in_boot(path_, kBootB);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->dropped_claims().empty());
  EXPECT_EQ(claims_in(*again), (std::vector<Claim>{old_claim}));
}

TEST_F(StoreBoots, ClaimsOfAnUnknownBootAreKept) {
  const Claim claim = claim_of(vf(0x10, 2), "web1", 2);
  {
    auto store = Store::open(path_);  // no boot id
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->transaction([&](StoreTransaction& tx) { return tx.add_claim(claim); }));
  }
  auto store = open_in_boot(path_, kBootB);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->dropped_claims().empty());
  EXPECT_EQ(claims_in(*store), (std::vector<Claim>{claim}));
}

TEST_F(StoreBoots, RefusesABootIdThatIsNotOne) {
  for (const std::string& bad : {std::string("boot id"), std::string("a'b"), std::string(65, 'a'),
                                 std::string("0b7e6f3c\n")}) {
    StoreOptions options;
    options.boot_id = bad;
    auto store = Store::open(path_, options);
    ASSERT_FALSE(store) << bad;
    EXPECT_EQ(store.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(store.error().message.find("is not a boot id"), std::string::npos)
        << store.error().message;
  }
}

// The schema that vfhook's first release wrote (user_version 1), verbatim.
void create_schema_v1_database(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* sql =
      "PRAGMA journal_mode=WAL;"
      "BEGIN;"
      "CREATE TABLE claims (vf TEXT PRIMARY KEY NOT NULL, domain TEXT NOT NULL,"
      " pool TEXT NOT NULL, pf TEXT NOT NULL, vf_index INTEGER NOT NULL,"
      " claimed_at INTEGER NOT NULL);"
      "CREATE TABLE reservations (vf TEXT PRIMARY KEY NOT NULL, domain TEXT NOT NULL,"
      " pool TEXT NOT NULL);"
      "CREATE TABLE snapshots (vf TEXT PRIMARY KEY NOT NULL, driver TEXT,"
      " rebind_driver INTEGER NOT NULL, mac TEXT, vlan INTEGER, qos INTEGER, proto TEXT,"
      " spoofchk INTEGER, trust INTEGER, link_state TEXT, min_tx INTEGER, max_tx INTEGER);"
      "PRAGMA user_version = 1;"
      "INSERT INTO claims VALUES ('0000:01:10.2', 'web1', 'provider', 'enp1s0', 2, 1700000000);"
      "INSERT INTO claims VALUES ('0000:05:00.1', 'big', 'whole', '', -1, 1700000000);"
      "INSERT INTO reservations VALUES ('0000:01:10.3', 'web2', 'provider');"
      "INSERT INTO snapshots (vf, driver, rebind_driver, spoofchk) VALUES"
      " ('0000:01:10.2', 'igbvf', 1, 1);"
      "COMMIT;";
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
}

const std::vector<Claim> kVersion1Claims = {
    Claim{vf(0x10, 2), "web1", "provider", "enp1s0", 2},
    Claim{PciAddress{0, 5, 0, 1}, "big", "whole", "", -1},
};

TEST_F(StoreBoots, ADatabaseOfSchemaVersion1KeepsEverythingAndJoinsTheOpenersBoot) {
  create_schema_v1_database(path_);
  ASSERT_EQ(user_version(path_), 1);
  {
    auto store = open_in_boot(path_, kBootA);
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->dropped_claims().empty());
    EXPECT_EQ(claims_in(*store), kVersion1Claims);  // no MAC: schema 1 did not record one
    ASSERT_TRUE(store->transaction([&](StoreTransaction& tx) -> Status {
      VF_ASSIGN(reservations, tx.reservations());
      EXPECT_EQ(reservations, (std::vector<Reservation>{{vf(0x10, 3), "web2", "provider"}}));
      VF_ASSIGN(snapshot, tx.snapshot(vf(0x10, 2)));
      EXPECT_TRUE(snapshot);
      // New claims record their MAC in the migrated table.
      Claim with_mac = claim_of(vf(0x10, 4), "web3", 4);
      with_mac.mac = *MacAddress::parse("52:54:00:aa:00:04");
      VF_TRY(tx.add_claim(with_mac));
      VF_ASSIGN(all, tx.claims());
      EXPECT_EQ(all, (std::vector<Claim>{kVersion1Claims[0], with_mac, kVersion1Claims[1]}));
      return ok();
    }));
  }
  EXPECT_EQ(user_version(path_), 4);
  {
    auto store = open_in_boot(path_, kBootA);  // the same boot: all kept
    ASSERT_TRUE(store);
    EXPECT_EQ(claims_in(*store).size(), 3u);
  }
  // The migrated claims were taken as the migrating boot's: the next boot drops them.
  auto next_boot = open_in_boot(path_, kBootB);
  ASSERT_TRUE(next_boot);
  EXPECT_EQ(next_boot->dropped_claims().size(), 3u);
  EXPECT_TRUE(claims_in(*next_boot).empty());
}

TEST_F(StoreBoots, ADatabaseOfSchemaVersion1MigratedWithoutABootKeepsItsClaimsUnknown) {
  create_schema_v1_database(path_);
  {
    auto store = Store::open(path_);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(claims_in(**store), kVersion1Claims);
  }
  EXPECT_EQ(user_version(path_), 4);
  auto store = open_in_boot(path_, kBootB);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->dropped_claims().empty());
  EXPECT_EQ(claims_in(*store), kVersion1Claims);
}

TEST_F(StoreTest, HoldingOfOneVfIsItsClaimAndReservation) {
  const Claim claim = claim_of(vf(0x10, 2), "web1", 2);
  const Reservation mine{vf(0x10, 2), "web1", "provider"};
  const Reservation other{vf(0x10, 4), "web2", "provider"};
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(claim));
    VF_TRY(tx.add_reservation(mine));
    return tx.add_reservation(other);
  }));
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(both, tx.holding(vf(0x10, 2)));
    EXPECT_EQ(both, (VfHolding{claim, mine}));
    VF_ASSIGN(reserved, tx.holding(vf(0x10, 4)));
    EXPECT_EQ(reserved, (VfHolding{std::nullopt, other}));
    VF_ASSIGN(free, tx.holding(vf(0x10, 6)));
    EXPECT_EQ(free, VfHolding{});
    return ok();
  }));
  // A row that is not valid is refused here too.
  raw_sql("INSERT INTO reservations VALUES ('0000:01:10.6', '', 'provider')");
  auto bad = run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(holding, tx.holding(vf(0x10, 6)));
    ADD_FAILURE() << "read " << holding.reservation.has_value();
    return ok();
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
}

TEST_F(StoreTest, ReservationsOfOneDomainOnly) {
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_reservation(Reservation{vf(0x10, 6), "web1", "provider"}));
    VF_TRY(tx.add_reservation(Reservation{vf(0x10, 2), "web1", "other"}));
    return tx.add_reservation(Reservation{vf(0x10, 4), "web10", "provider"});
  }));
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(web1, tx.reservations_of("web1"));
    EXPECT_EQ(web1, (std::vector<Reservation>{{vf(0x10, 2), "web1", "other"},
                                              {vf(0x10, 6), "web1", "provider"}}));
    VF_ASSIGN(none, tx.reservations_of("web"));
    EXPECT_TRUE(none.empty());
    return ok();
  }));
}

TEST_F(StoreTest, ClaimSitesAreEveryClaimsVfAndRecordedPf) {
  const Claim whole{PciAddress{0, 5, 0, 1}, "big", "whole", "", -1};
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(whole));
    VF_TRY(tx.add_claim(Claim{vf(0x10, 3), "web2", "provider", "enp1s0", 3}));
    return tx.add_claim(Claim{vf(0x10, 1), "web1", "provider", "enp1s0old", 1});
  }));
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(sites, tx.claim_sites());
    EXPECT_EQ(sites, (std::vector<ClaimSite>{
                         {vf(0x10, 1), "enp1s0old"}, {vf(0x10, 3), "enp1s0"}, {whole.vf, ""}}));
    return ok();
  }));
}

TEST_F(StoreTest, HeldBetweenIsEveryClaimedOrReservedVfOfTheRangeOnce) {
  // 01:0f.7 and 01:11.0 lie just outside [01:10.0, 01:10.7]; 01:10.2 is claimed and reserved.
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_TRY(tx.add_claim(claim_of(vf(0x0f, 7), "a")));
    VF_TRY(tx.add_claim(claim_of(vf(0x10, 2), "b")));
    VF_TRY(tx.add_reservation(Reservation{vf(0x10, 2), "b", "provider"}));
    VF_TRY(tx.add_reservation(Reservation{vf(0x10, 0), "c", "provider"}));
    VF_TRY(tx.add_claim(claim_of(vf(0x10, 7), "d")));
    VF_TRY(tx.add_reservation(Reservation{vf(0x11, 0), "e", "provider"}));
    // Another PCI segment with the same bus, slot and function: outside the range.
    return tx.add_reservation(Reservation{PciAddress{1, 1, 0x10, 3}, "f", "provider"});
  }));
  ASSERT_TRUE(run([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(held, tx.held_between(vf(0x10, 0), vf(0x10, 7)));
    EXPECT_EQ(held, (std::vector<PciAddress>{vf(0x10, 0), vf(0x10, 2), vf(0x10, 7)}));
    VF_ASSIGN(one, tx.held_between(vf(0x10, 2), vf(0x10, 2)));
    EXPECT_EQ(one, (std::vector<PciAddress>{vf(0x10, 2)}));
    VF_ASSIGN(none, tx.held_between(vf(0x10, 3), vf(0x10, 6)));
    EXPECT_TRUE(none.empty());
    return ok();
  }));
}
// Whether the database has an index of that name, read straight from the file.
bool has_index(const std::string& path, const std::string& name) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  const bool found = sqlite3_step(stmt) == SQLITE_ROW;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return found;
}

TEST_F(StoreBoots, MigrationToVersion4IndexesReservationsByDomain) {
  create_schema_v1_database(path_);
  ASSERT_FALSE(has_index(path_, "reservations_by_domain"));
  {
    auto store = Store::open(path_);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->transaction([&](StoreTransaction& tx) -> Status {
      VF_ASSIGN(web2, tx.reservations_of("web2"));
      EXPECT_EQ(web2, (std::vector<Reservation>{{vf(0x10, 3), "web2", "provider"}}));
      return ok();
    }));
  }
  EXPECT_EQ(user_version(path_), 4);
  EXPECT_TRUE(has_index(path_, "reservations_by_domain"));
}

TEST(StoreOpen, WaitsBoundedlyForAnotherProcessSettingItUp) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  ASSERT_TRUE(Store::open(path));
  for (const std::string& locked : {dir.path().string(), path}) {
    const int holder = ::open(locked.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(holder, 0) << locked;
    ASSERT_EQ(::flock(holder, LOCK_EX), 0);
    auto store = Store::open(path, std::chrono::milliseconds(50));
    ASSERT_FALSE(store) << locked;
    EXPECT_EQ(store.error().kind, ErrorKind::conflict);
    EXPECT_EQ(store.error().message,
              "claims database " + path + ": another vfhook process is still setting it up");
    ::close(holder);
    auto later = Store::open(path, std::chrono::milliseconds(50));
    EXPECT_TRUE(later) << later.error().message;
  }
}

// Opening a database that is set up only checks it, under shared locks: many processes open
// side by side. Creating (or migrating) one still takes the exclusive lock.
TEST(StoreOpen, ASetUpDatabaseOpensBesideAnotherOpenerButANewOneWaits) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  ASSERT_TRUE(Store::open(path));
  const int holder = ::open(dir.path().c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(holder, 0);
  ASSERT_EQ(::flock(holder, LOCK_SH), 0);  // another opener checking it now
  auto beside = Store::open(path, std::chrono::milliseconds(50));
  EXPECT_TRUE(beside) << beside.error().message;
  auto created = Store::open(dir.file("other.db"), std::chrono::milliseconds(50));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().kind, ErrorKind::conflict);
  ::close(holder);
  EXPECT_TRUE(Store::open(dir.file("other.db"), std::chrono::milliseconds(50)));
}

TEST(StoreOpen, RefusesAnEmptyDatabaseThatExistedBefore) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  // What a truncation (a full disk, a crash, a bad restore) leaves behind.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(store.error().message,
            "claims database " + path +
                " is empty (0 bytes), but it existed before vfhook opened it: it was truncated "
                "(a full disk, a crash, a bad restore), and the claims, reservations and VF "
                "snapshots it held may be lost. vfhook will not use it. Restore it from a "
                "backup; if there is none, remove it (rm " +
                path +
                ") so that vfhook creates a new one, then check the VFs of vfhook's pools "
                "(ip link show PF): their original settings can no longer be restored.");
  // Left exactly as it was, for the administrator to restore.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  // Refused every time, not only the first: nothing was written to it.
  EXPECT_FALSE(Store::open(path));
}

TEST(StoreOpen, CreatesADatabaseThatDidNotExist) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_TRUE((*store)->transaction([](StoreTransaction& tx) -> Status {
    VF_ASSIGN(claims, tx.claims());
    EXPECT_TRUE(claims.empty());
    return ok();
  }));
  store->reset();
  // Created and set up once: from now on it is a database like any other.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
  EXPECT_TRUE(Store::open(path));
}

TEST(StoreOpen, RefusesASymlink) {
  testing::TempDir dir;
  const std::string target = dir.file("real.db");
  const std::string link = dir.file("vfhook.db");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto store = Store::open(link);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().sys_errno, ELOOP);
}

TEST(StoreOpen, RefusesAStateDirectoryOthersCanWrite) {
  testing::TempDir dir;
  const std::string state = dir.path().string();
  ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
  const std::string path = dir.file("vfhook.db");
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::policy);
  EXPECT_NE(store.error().message.find("state directory " + state +
                                       " is writable by group/others (mode 0777)"),
            std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("chmod go-w " + state), std::string::npos);
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "nothing is created in an untrusted directory";
}

TEST(StoreOpen, RefusesADatabaseOthersCanWrite) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  ASSERT_TRUE(Store::open(path));
  // A planted or loosened database: anyone could have written its snapshots.
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::policy);
  EXPECT_NE(store.error().message.find("claims database " + path +
                                       " is writable by group/others (mode 0666)"),
            std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("chmod go-w " + path), std::string::npos);
}

TEST(StoreOpen, RefusesADatabaseOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file away";
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  ASSERT_TRUE(Store::open(path));
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::policy);
  EXPECT_NE(store.error().message.find("claims database " + path + " is owned by uid 65534"),
            std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("chown root " + path), std::string::npos);
}

TEST(StoreOpen, RefusesAFileThatIsNotADatabase) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not an SQLite database, just some text that is long enough to matter....", f);
  fclose(f);
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace vfhook
