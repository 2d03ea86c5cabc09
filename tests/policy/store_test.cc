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
  raw_sql("INSERT INTO claims VALUES ('../../etc', 'web1', 'p', 'enp1s0', 1, 0)");
  auto status = run([](StoreTransaction& tx) { return tx.claims().map([](auto&&) {}); });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(status.error().message.find("claims row '../../etc'"), std::string::npos)
      << status.error().message;
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
  EXPECT_NE(reopened.error().message.find("schema version 7"), std::string::npos)
      << reopened.error().message;
}

// Another opener holding a setup lock and never letting go: the state directory's (taken
// while the database is created and its schema written) or, as older vfhook versions did, the
// database file's.
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
