// SQLite implementation of Store. SQLite result codes become Errors only in sqlite_error().
#include "policy/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <variant>

#include "policy/state_dir.h"
#include "util/fd.h"
#include "util/file_lock.h"

namespace vfhook {
namespace {

// The schema this vfhook writes; initialize() migrates older databases step by step.
//   1: claims, reservations, snapshots.
//   2: claims.boot_id (NULL: an unknown boot) and claims.mac (NULL: none).
//   3: admin_macs (domain, vf, mac, boot_id): admin MACs recorded at prepare for VFs libvirt
//      may choose from a hostdev network.
//   4: index reservations_by_domain: the allocator looks up a domain's own reservations.
constexpr int schema_version = 4;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Holds flock(LOCK_EX) on a descriptor (the state directory's, and the database file's, as
// older versions did) while a connection creates the database and sets up WAL and the schema.
// Shared: a check that the database is set up, side by side with other such checks.
Result<FileLock> setup_lock(int fd, const std::string& path, std::chrono::milliseconds timeout,
                            FileLock::Mode mode = FileLock::Mode::exclusive) {
  SystemClock clock;
  auto lock = FileLock::acquire(fd, mode, timeout, clock, "claims database " + path);
  if (!lock && lock.error().kind == ErrorKind::conflict) {
    return fail(ErrorKind::conflict,
                "claims database " + path + ": another vfhook process is still setting it up");
  }
  return lock;
}

// A bound parameter: text, integer or NULL.
using Param = std::variant<std::monostate, std::string, int64_t>;

template <class T>
Param opt_param(const std::optional<T>& value) {
  if (!value) return std::monostate{};
  if constexpr (std::is_same_v<T, std::string>) {
    return *value;
  } else {
    return static_cast<int64_t>(*value);
  }
}

}  // namespace

// The one place where SQLite result codes become Errors.
static Error sqlite_error(sqlite3* db, int rc, std::string_view what,
                          std::chrono::milliseconds busy_timeout) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    const auto ms = busy_timeout.count();
    const std::string span =
        ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    return Error{ErrorKind::conflict,
                 std::string(what) + ": the claims database stayed locked for " + span +
                     " (another vfhook process holds it)",
                 0};
  }
  const char* message = db && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  ErrorKind kind = ErrorKind::internal;
  int sys_errno = 0;
  switch (primary) {
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      kind = ErrorKind::os;
      sys_errno = db ? sqlite3_system_errno(db) : 0;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      kind = ErrorKind::invalid_input;
      break;
    case SQLITE_CONSTRAINT:
      kind = ErrorKind::conflict;
      break;
    default:
      break;
  }
  return Error{kind, std::string(what) + ": " + message + " (sqlite " + std::to_string(rc) + ")",
               sys_errno};
}

namespace {

class SqliteStore;

// A statement prepared once per connection and kept: compiling SQL is a sixth of the
// start path's CPU, and a hook runs the same few statements every time. `busy` while a Query
// uses it; a second Query of the same SQL meanwhile gets a statement of its own.
struct CachedStatement {
  StmtHandle stmt;
  bool busy = false;
};

// One prepared statement with its parameters bound; rows are read with the column helpers,
// which validate the column's type as untrusted input. A cached statement is reset and handed
// back when the Query ends; any other is finalized.
class Query {
 public:
  Query(SqliteStore& store, StmtHandle owned) : store_(store), stmt_(owned.get()) {
    owned_ = std::move(owned);
  }
  Query(SqliteStore& store, CachedStatement& cached)
      : store_(store), stmt_(cached.stmt.get()), cached_(&cached) {
    cached.busy = true;
  }
  Query(Query&& other) noexcept
      : store_(other.store_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        owned_(std::move(other.owned_)),
        cached_(std::exchange(other.cached_, nullptr)) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query() {
    if (cached_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cached_->busy = false;
  }

  sqlite3_stmt* statement() const { return stmt_; }
  Result<bool> step();  // true: a row is ready
  Status run();         // steps to the end, ignoring rows

  Result<std::optional<int64_t>> integer(int column, std::string_view name) const;
  Result<std::optional<std::string>> text(int column, std::string_view name) const;

 private:
  SqliteStore& store_;
  sqlite3_stmt* stmt_;
  StmtHandle owned_;
  CachedStatement* cached_ = nullptr;
};

class SqliteStore final : public Store, public StoreTransaction {
 public:
  SqliteStore(std::string path, Fd file, DbHandle db, std::chrono::milliseconds busy_timeout,
              std::string boot_id)
      : path_(std::move(path)),
        file_(std::move(file)),
        db_(std::move(db)),
        busy_timeout_(busy_timeout),
        boot_id_(std::move(boot_id)) {}

  Error error(int rc, std::string_view what) const {
    return sqlite_error(db_.get(), rc, what, busy_timeout_)
        .with_context("claims database " + path_);
  }
  Error bad_row(std::string_view table, const std::string& key, const std::string& why) const {
    return Error{ErrorKind::invalid_input,
                 "claims database " + path_ + ": " + std::string(table) + " row '" +
                     key.substr(0, 64) + "': " + why,
                 0};
  }

  Result<Query> query(const char* sql, std::initializer_list<Param> params = {}) {
    auto cached = statements_.find(sql);
    std::optional<Query> made;
    if (cached != statements_.end() && !cached->second.busy) {
      made.emplace(*this, cached->second);
    } else {
      sqlite3_stmt* raw = nullptr;
      const unsigned flags = cached == statements_.end() ? SQLITE_PREPARE_PERSISTENT : 0;
      int rc = sqlite3_prepare_v3(db_.get(), sql, -1, flags, &raw, nullptr);
      StmtHandle stmt(raw);
      if (rc != SQLITE_OK) return fail(error(rc, "prepare"));
      if (cached == statements_.end()) {
        CachedStatement& entry = statements_[sql];
        entry.stmt = std::move(stmt);
        made.emplace(*this, entry);
      } else {
        made.emplace(*this, std::move(stmt));
      }
    }
    sqlite3_stmt* raw = made->statement();
    int rc = SQLITE_OK;
    int index = 1;
    for (const Param& param : params) {
      if (const auto* s = std::get_if<std::string>(&param)) {
        rc =
            sqlite3_bind_text(raw, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else if (const auto* i = std::get_if<int64_t>(&param)) {
        rc = sqlite3_bind_int64(raw, index, *i);
      } else {
        rc = sqlite3_bind_null(raw, index);
      }
      if (rc != SQLITE_OK) return fail(error(rc, "bind"));
      ++index;
    }
    return std::move(*made);
  }
  Status exec(const char* sql, std::initializer_list<Param> params = {}) {
    VF_ASSIGN(q, query(sql, params));
    return q.run();
  }

  Result<std::optional<std::string>> current_journal_mode() {
    VF_ASSIGN(q, query("PRAGMA journal_mode"));
    VF_ASSIGN(has_row, q.step());
    if (!has_row) return std::optional<std::string>();
    return q.text(0, "journal_mode");
  }

  // Runs once per connection, under the setup lock: WAL, the schema (created or migrated),
  // then the claims of other boots are dropped.
  Status initialize() {
    // journal_mode returns a row; the others return nothing. WAL is a property of the file:
    // switch only when it is not WAL yet (the switch needs the database to itself).
    VF_ASSIGN(mode, current_journal_mode());
    if (mode != "wal") VF_TRY(exec("PRAGMA journal_mode=WAL"));
    VF_TRY(exec("PRAGMA synchronous=NORMAL"));
    VF_TRY(exec("PRAGMA foreign_keys=ON"));
    return transaction([&](StoreTransaction&) -> Status {
      VF_ASSIGN(q, query("PRAGMA user_version"));
      VF_ASSIGN(has_row, q.step());
      VF_ASSIGN(version, has_row ? q.integer(0, "user_version") : std::optional<int64_t>(0));
      const int64_t v = version.value_or(0);
      if (v < 0 || v > schema_version) {
        return fail(ErrorKind::invalid_input,
                    "claims database " + path_ + " has schema version " + std::to_string(v) +
                        ", this vfhook knows versions up to " + std::to_string(schema_version) +
                        " (was it written by a newer vfhook?); install that version again, or "
                        "restore the database from a backup made by this one");
      }
      for (int64_t from = v; from < schema_version; ++from) {
        VF_TRY(migrate_from(static_cast<int>(from)));
        // PRAGMA takes no parameters; the version is our own integer.
        VF_TRY(exec(("PRAGMA user_version = " + std::to_string(from + 1)).c_str()));
      }
      return drop_claims_of_other_boots();
    });
  }

  // Whether the database is set up as initialize() leaves it (WAL, this schema version, no
  // claims of another boot to drop), read without writing; then the connection's settings.
  // Most opens find it so, and need not queue for the setup lock and a write transaction.
  Result<bool> ready() {
    VF_ASSIGN(mode, current_journal_mode());
    if (mode != "wal") return false;
    {
      VF_ASSIGN(q, query("PRAGMA user_version"));
      VF_ASSIGN(has_row, q.step());
      if (!has_row) return false;
      VF_ASSIGN(version, q.integer(0, "user_version"));
      if (version != schema_version) return false;
    }
    if (!boot_id_.empty()) {
      for (const char* sql :
           {"SELECT 1 FROM claims WHERE boot_id IS NOT NULL AND boot_id <> ?1 LIMIT 1",
            "SELECT 1 FROM admin_macs WHERE boot_id IS NOT NULL AND boot_id <> ?1 LIMIT 1"}) {
        VF_ASSIGN(q, query(sql, {boot_id_}));
        VF_ASSIGN(other_boot, q.step());
        if (other_boot) return false;
      }
    }
    VF_TRY(exec("PRAGMA synchronous=NORMAL"));
    VF_TRY(exec("PRAGMA foreign_keys=ON"));
    return true;
  }

  // One migration step, from version `from` to from + 1, inside the setup transaction. A
  // step, once released, never changes: databases of every older version pass through it.
  Status migrate_from(int from) {
    switch (from) {
      case 0:  // a new database
        VF_TRY(
            exec("CREATE TABLE claims (vf TEXT PRIMARY KEY NOT NULL, domain TEXT NOT NULL,"
                 " pool TEXT NOT NULL, pf TEXT NOT NULL, vf_index INTEGER NOT NULL,"
                 " claimed_at INTEGER NOT NULL)"));
        VF_TRY(
            exec("CREATE TABLE reservations (vf TEXT PRIMARY KEY NOT NULL, domain TEXT NOT NULL,"
                 " pool TEXT NOT NULL)"));
        // NULL in a settings column: vfhook did not change that setting. driver NULL: unbound.
        return exec(
            "CREATE TABLE snapshots (vf TEXT PRIMARY KEY NOT NULL, driver TEXT,"
            " rebind_driver INTEGER NOT NULL, mac TEXT, vlan INTEGER, qos INTEGER, proto TEXT,"
            " spoofchk INTEGER, trust INTEGER, link_state TEXT, min_tx INTEGER, max_tx INTEGER)");
      case 1:
        // boot_id NULL: a claim of an unknown boot, never dropped automatically. Claims from
        // version 1 are taken as the migrating connection's boot when it has one: most likely
        // true (vfhook upgraded under running guests), and if not they block only until the
        // next reboot; without a boot id they stay unknown (see store.h).
        VF_TRY(exec("ALTER TABLE claims ADD COLUMN boot_id TEXT"));
        VF_TRY(exec("ALTER TABLE claims ADD COLUMN mac TEXT"));
        if (boot_id_.empty()) return ok();
        return exec("UPDATE claims SET boot_id = ?1", {boot_id_});
      case 2:
        // boot_id as in claims: NULL for an unknown boot.
        return exec(
            "CREATE TABLE admin_macs (domain TEXT NOT NULL, vf TEXT NOT NULL, mac TEXT NOT NULL,"
            " boot_id TEXT, PRIMARY KEY (domain, vf))");
      case 3:
        return exec("CREATE INDEX reservations_by_domain ON reservations (domain)");
      default:
        return fail(ErrorKind::internal, "claims database " + path_ +
                                             ": no migration from schema version " +
                                             std::to_string(from));
    }
  }

  // The claims recorded under another boot id, with their snapshots: the host rebooted
  // without running release, and the kernel re-created those VFs, so there is nothing to
  // restore. Reservations are the domains' and stay.
  Status drop_claims_of_other_boots() {
    if (boot_id_.empty()) return ok();
    constexpr const char* other_boot = "boot_id IS NOT NULL AND boot_id <> ?1";
    VF_ASSIGN(dropped, read_claims(std::string(" WHERE ") + other_boot, {boot_id_}));
    VF_TRY(exec(("DELETE FROM admin_macs WHERE " + std::string(other_boot)).c_str(), {boot_id_}));
    if (dropped.empty()) return ok();
    VF_TRY(exec(("DELETE FROM snapshots WHERE vf IN (SELECT vf FROM claims WHERE " +
                 std::string(other_boot) + ")")
                    .c_str(),
                {boot_id_}));
    VF_TRY(exec(("DELETE FROM claims WHERE " + std::string(other_boot)).c_str(), {boot_id_}));
    dropped_ = std::move(dropped);
    return ok();
  }

  // Store
  Status transaction(const std::function<Status(StoreTransaction&)>& body) override {
    VF_TRY(exec("BEGIN IMMEDIATE"));
    struct RollbackUnlessCommitted {
      SqliteStore& store;
      bool committed = false;
      ~RollbackUnlessCommitted() {
        if (!committed) (void)store.exec("ROLLBACK");
      }
    } guard{*this};
    VF_TRY(body(*this));
    VF_TRY(exec("COMMIT"));
    guard.committed = true;
    return ok();
  }

  const std::vector<Claim>& dropped_claims() const override { return dropped_; }

  // The claims matching `where` ("" or " WHERE ..."), ordered by VF, validated.
  Result<std::vector<Claim>> read_claims(const std::string& where,
                                         std::initializer_list<Param> params = {}) {
    VF_ASSIGN(
        q, query(("SELECT vf, domain, pool, pf, vf_index, mac FROM claims" + where + " ORDER BY vf")
                     .c_str(),
                 params));
    std::vector<Claim> out;
    for (;;) {
      VF_ASSIGN(row, q.step());
      if (!row) break;
      VF_ASSIGN(vf, q.text(0, "vf"));
      VF_ASSIGN(domain, q.text(1, "domain"));
      VF_ASSIGN(pool, q.text(2, "pool"));
      VF_ASSIGN(pf, q.text(3, "pf"));
      VF_ASSIGN(index, q.integer(4, "vf_index"));
      VF_ASSIGN(mac_text, q.text(5, "mac"));
      const std::string key = vf.value_or("");
      auto address = PciAddress::parse(key);
      if (!address) return fail(bad_row("claims", key, address.error().message));
      if (!domain || domain->empty() || !pool || !pf || !index || *index < -1 || *index > 65535) {
        return fail(bad_row("claims", key, "missing or invalid domain, pool, pf or vf_index"));
      }
      Claim claim{*address, *domain, *pool, *pf, static_cast<int>(*index)};
      if (mac_text) {
        auto mac = MacAddress::parse(*mac_text);
        if (!mac) return fail(bad_row("claims", key, mac.error().message));
        claim.mac = *mac;
      }
      out.push_back(std::move(claim));
    }
    return out;
  }

  // StoreTransaction
  Result<std::vector<Claim>> claims() override { return read_claims(""); }

  // The reservations matching `where` ("" or " WHERE ..."), ordered by VF, validated.
  Result<std::vector<Reservation>> read_reservations(const std::string& where,
                                                     std::initializer_list<Param> params = {}) {
    VF_ASSIGN(q,
              query(("SELECT vf, domain, pool FROM reservations" + where + " ORDER BY vf").c_str(),
                    params));
    std::vector<Reservation> out;
    for (;;) {
      VF_ASSIGN(row, q.step());
      if (!row) break;
      VF_ASSIGN(vf, q.text(0, "vf"));
      VF_ASSIGN(domain, q.text(1, "domain"));
      VF_ASSIGN(pool, q.text(2, "pool"));
      const std::string key = vf.value_or("");
      auto address = PciAddress::parse(key);
      if (!address) return fail(bad_row("reservations", key, address.error().message));
      if (!domain || domain->empty() || !pool) {
        return fail(bad_row("reservations", key, "missing domain or pool"));
      }
      out.push_back(Reservation{*address, *domain, *pool});
    }
    return out;
  }

  Result<std::vector<Reservation>> reservations() override { return read_reservations(""); }

  Result<VfHolding> holding(const PciAddress& vf) override {
    const std::string key = vf.to_string();
    VfHolding held;
    VF_ASSIGN(claims, read_claims(" WHERE vf = ?1", {key}));
    if (!claims.empty()) held.claim = std::move(claims.front());
    VF_ASSIGN(reservations, read_reservations(" WHERE vf = ?1", {key}));
    if (!reservations.empty()) held.reservation = std::move(reservations.front());
    return held;
  }

  Result<std::vector<Reservation>> reservations_of(const std::string& domain) override {
    return read_reservations(" WHERE domain = ?1", {domain});
  }

  Result<std::vector<ClaimSite>> claim_sites() override {
    VF_ASSIGN(q, query("SELECT vf, pf FROM claims ORDER BY vf"));
    std::vector<ClaimSite> out;
    for (;;) {
      VF_ASSIGN(row, q.step());
      if (!row) break;
      VF_ASSIGN(vf, q.text(0, "vf"));
      VF_ASSIGN(pf, q.text(1, "pf"));
      const std::string key = vf.value_or("");
      auto address = PciAddress::parse(key);
      if (!address) return fail(bad_row("claims", key, address.error().message));
      if (!pf) return fail(bad_row("claims", key, "missing pf"));
      out.push_back(ClaimSite{*address, std::move(*pf)});
    }
    return out;
  }

  Result<std::vector<PciAddress>> held_between(const PciAddress& first,
                                               const PciAddress& last) override {
    // Two scans of primary-key ranges, merged here (a UNION would sort them again).
    std::vector<PciAddress> out;
    for (const char* sql : {"SELECT vf FROM claims WHERE vf BETWEEN ?1 AND ?2 ORDER BY vf",
                            "SELECT vf FROM reservations WHERE vf BETWEEN ?1 AND ?2 ORDER BY vf"}) {
      VF_ASSIGN(q, query(sql, {first.to_string(), last.to_string()}));
      const size_t before = out.size();
      for (;;) {
        VF_ASSIGN(row, q.step());
        if (!row) break;
        VF_ASSIGN(vf, q.text(0, "vf"));
        const std::string key = vf.value_or("");
        auto address = PciAddress::parse(key);
        if (!address) return fail(bad_row("claims or reservations", key, address.error().message));
        out.push_back(*address);
      }
      std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
    }
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // The domain in `table` holding `vf`, if any.
  Result<std::optional<std::string>> holder(const char* sql, const PciAddress& vf) {
    VF_ASSIGN(q, query(sql, {vf.to_string()}));
    VF_ASSIGN(row, q.step());
    if (!row) return std::optional<std::string>();
    return q.text(0, "domain");
  }

  Status add_claim(const Claim& claim) override {
    const std::string vf = claim.vf.to_string();
    VF_ASSIGN(claimed_by, holder("SELECT domain FROM claims WHERE vf = ?1", claim.vf));
    if (claimed_by) {
      return fail(ErrorKind::conflict, "VF " + vf + " is held by domain '" + *claimed_by + "'");
    }
    VF_ASSIGN(reserved_by, holder("SELECT domain FROM reservations WHERE vf = ?1", claim.vf));
    if (reserved_by && *reserved_by != claim.domain) {
      return fail(ErrorKind::conflict,
                  "VF " + vf + " is reserved for domain '" + *reserved_by + "'");
    }
    std::optional<std::string> mac, boot;
    if (claim.mac) mac = claim.mac->to_string();
    if (!boot_id_.empty()) boot = boot_id_;
    return exec(
        "INSERT INTO claims (vf, domain, pool, pf, vf_index, claimed_at, boot_id, mac)"
        " VALUES (?1, ?2, ?3, ?4, ?5, CAST(strftime('%s', 'now') AS INTEGER), ?6, ?7)",
        {vf, claim.domain, claim.pool, claim.pf, int64_t{claim.vf_index}, opt_param(boot),
         opt_param(mac)});
  }

  Status remove_claim(const PciAddress& vf) override {
    return exec("DELETE FROM claims WHERE vf = ?1", {vf.to_string()});
  }

  Status add_reservation(const Reservation& reservation) override {
    const std::string vf = reservation.vf.to_string();
    VF_ASSIGN(reserved_by, holder("SELECT domain FROM reservations WHERE vf = ?1", reservation.vf));
    if (reserved_by && *reserved_by != reservation.domain) {
      return fail(ErrorKind::conflict,
                  "VF " + vf + " is reserved for domain '" + *reserved_by + "'");
    }
    return exec("INSERT OR REPLACE INTO reservations (vf, domain, pool) VALUES (?1, ?2, ?3)",
                {vf, reservation.domain, reservation.pool});
  }

  Status record_admin_macs(const std::string& domain,
                           const std::vector<std::pair<PciAddress, MacAddress>>& macs) override {
    VF_TRY(drop_admin_macs(domain));
    std::optional<std::string> boot;
    if (!boot_id_.empty()) boot = boot_id_;
    for (const auto& [vf, mac] : macs)
      VF_TRY(
          exec("INSERT OR REPLACE INTO admin_macs (domain, vf, mac, boot_id)"
               " VALUES (?1, ?2, ?3, ?4)",
               {domain, vf.to_string(), mac.to_string(), opt_param(boot)}));
    return ok();
  }

  Result<std::optional<MacAddress>> recorded_admin_mac(const std::string& domain,
                                                       const PciAddress& vf) override {
    const std::string key = vf.to_string();
    VF_ASSIGN(q, query("SELECT mac FROM admin_macs WHERE domain = ?1 AND vf = ?2", {domain, key}));
    VF_ASSIGN(row, q.step());
    if (!row) return std::optional<MacAddress>();
    VF_ASSIGN(text, q.text(0, "mac"));
    auto mac = MacAddress::parse(text.value_or(""));
    if (!mac) return fail(bad_row("admin_macs", key, mac.error().message));
    return std::optional<MacAddress>(*mac);
  }

  Status drop_admin_macs(const std::string& domain) override {
    return exec("DELETE FROM admin_macs WHERE domain = ?1", {domain});
  }

  Status remove_reservation(const PciAddress& vf) override {
    return exec("DELETE FROM reservations WHERE vf = ?1", {vf.to_string()});
  }

  Status save_snapshot(const VfSnapshot& s) override {
    const VfSettings& c = s.changed;
    std::optional<std::string> mac, proto, link;
    if (c.mac) mac = c.mac->to_string();
    if (c.vlan) proto = to_string(c.vlan->protocol);
    if (c.link_state) link = to_string(*c.link_state);
    std::optional<int64_t> vlan, qos, min_tx, max_tx;
    if (c.vlan) vlan = c.vlan->id, qos = c.vlan->qos;
    if (c.rates) min_tx = c.rates->min_tx, max_tx = c.rates->max_tx;
    // First snapshot wins: it holds the state from before vfhook touched the VF.
    return exec(
        "INSERT OR IGNORE INTO snapshots (vf, driver, rebind_driver, mac, vlan, qos, proto,"
        " spoofchk, trust, link_state, min_tx, max_tx)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        {s.vf.to_string(), opt_param(s.driver), int64_t{s.rebind_driver ? 1 : 0}, opt_param(mac),
         opt_param(vlan), opt_param(qos), opt_param(proto), opt_param(c.spoofchk),
         opt_param(c.trust), opt_param(link), opt_param(min_tx), opt_param(max_tx)});
  }

  Result<std::optional<VfSnapshot>> snapshot(const PciAddress& vf) override {
    const std::string key = vf.to_string();
    VF_ASSIGN(q, query("SELECT driver, rebind_driver, mac, vlan, qos, proto, spoofchk, trust,"
                       " link_state, min_tx, max_tx FROM snapshots WHERE vf = ?1",
                       {key}));
    VF_ASSIGN(row, q.step());
    if (!row) return std::optional<VfSnapshot>();
    auto bad = [&](const std::string& why) { return fail(bad_row("snapshots", key, why)); };
    VfSnapshot s;
    s.vf = vf;
    VF_ASSIGN(driver, q.text(0, "driver"));
    VF_ASSIGN(rebind, q.integer(1, "rebind_driver"));
    VF_ASSIGN(mac, q.text(2, "mac"));
    VF_ASSIGN(vlan, q.integer(3, "vlan"));
    VF_ASSIGN(qos, q.integer(4, "qos"));
    VF_ASSIGN(proto, q.text(5, "proto"));
    VF_ASSIGN(spoofchk, q.integer(6, "spoofchk"));
    VF_ASSIGN(trust, q.integer(7, "trust"));
    VF_ASSIGN(link, q.text(8, "link_state"));
    VF_ASSIGN(min_tx, q.integer(9, "min_tx"));
    VF_ASSIGN(max_tx, q.integer(10, "max_tx"));
    auto is_bool = [](const std::optional<int64_t>& v) { return !v || *v == 0 || *v == 1; };

    if (driver && (driver->empty() || driver->size() > 64)) return bad("invalid driver name");
    s.driver = driver;
    if (!rebind || !is_bool(rebind)) return bad("invalid rebind_driver");
    s.rebind_driver = *rebind == 1;
    if (mac) {
      auto parsed = MacAddress::parse(*mac);
      if (!parsed) return bad(parsed.error().message);
      s.changed.mac = *parsed;
    }
    if (vlan.has_value() != qos.has_value() || vlan.has_value() != proto.has_value()) {
      return bad("vlan, qos and proto must be set together");
    }
    if (vlan) {
      if (*vlan < 0 || *vlan > 4094 || *qos < 0 || *qos > 7) return bad("invalid vlan or qos");
      Vlan v{static_cast<uint16_t>(*vlan), static_cast<uint8_t>(*qos), VlanProtocol::dot1q};
      auto protocol = parse_vlan_protocol(*proto);
      if (!protocol) return bad("invalid VLAN protocol");
      v.protocol = *protocol;
      s.changed.vlan = v;
    }
    if (!is_bool(spoofchk) || !is_bool(trust)) return bad("invalid spoofchk or trust");
    if (spoofchk) s.changed.spoofchk = *spoofchk == 1;
    if (trust) s.changed.trust = *trust == 1;
    if (link) {
      s.changed.link_state = parse_link_state(*link);
      if (!s.changed.link_state) return bad("invalid link_state");
    }
    if (min_tx.has_value() != max_tx.has_value()) return bad("min_tx and max_tx go together");
    if (min_tx) {
      constexpr int64_t max_rate = std::numeric_limits<uint32_t>::max();
      if (*min_tx < 0 || *min_tx > max_rate || *max_tx < 0 || *max_tx > max_rate) {
        return bad("invalid rates");
      }
      s.changed.rates =
          VfSettings::Rates{static_cast<uint32_t>(*min_tx), static_cast<uint32_t>(*max_tx)};
    }
    return std::optional<VfSnapshot>(std::move(s));
  }

  Status remove_snapshot(const PciAddress& vf) override {
    return exec("DELETE FROM snapshots WHERE vf = ?1", {vf.to_string()});
  }

 private:
  std::string path_;
  // Our own descriptor of the database file, declared before db_: closed after the connection.
  // Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
  // included, so it stays open as long as the connection.
  Fd file_;
  DbHandle db_;
  // Declared after db_: finalized before the connection closes.
  std::map<std::string, CachedStatement, std::less<>> statements_;
  std::chrono::milliseconds busy_timeout_;
  std::string boot_id_;  // "" when unknown
  std::vector<Claim> dropped_;
};

Result<bool> Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(store_.error(rc, "step"));
}

Status Query::run() {
  for (;;) {
    VF_ASSIGN(row, step());
    if (!row) return ok();
  }
}

Result<std::optional<int64_t>> Query::integer(int column, std::string_view name) const {
  const int type = sqlite3_column_type(stmt_, column);
  if (type == SQLITE_NULL) return std::optional<int64_t>();
  if (type != SQLITE_INTEGER) {
    return fail(ErrorKind::invalid_input,
                "claims database: column " + std::string(name) + " is not an integer");
  }
  return std::optional<int64_t>(sqlite3_column_int64(stmt_, column));
}

Result<std::optional<std::string>> Query::text(int column, std::string_view name) const {
  const int type = sqlite3_column_type(stmt_, column);
  if (type == SQLITE_NULL) return std::optional<std::string>();
  if (type != SQLITE_TEXT) {
    return fail(ErrorKind::invalid_input,
                "claims database: column " + std::string(name) + " is not text");
  }
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (size > 4096) {
    return fail(ErrorKind::invalid_input,
                "claims database: column " + std::string(name) + " is too long");
  }
  return std::optional<std::string>(std::string(data, static_cast<size_t>(size)));
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  return open(path, StoreOptions{});
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path,
                                           std::chrono::milliseconds busy_timeout) {
  StoreOptions options;
  options.busy_timeout = busy_timeout;
  return open(path, options);
}

namespace {

constexpr int kDbOpenFlags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

// SQLite's busy handler: waits 1 ms and tries again, until the busy timeout (in ms, carried in
// `timeout_ms`) is spent. sqlite3_busy_timeout() backs off to sleeps of up to 100 ms, so with
// many vfhook processes queued on the write lock (vfctl port add run for many domains at once)
// a waiter slept long after the lock was free, for most of its time; a write transaction
// takes well under a millisecond, so the lock is better polled often.
int wait_while_busy(void* timeout_ms, int tries) {
  if (tries >= static_cast<int>(reinterpret_cast<intptr_t>(timeout_ms))) return 0;
  ::usleep(1000);
  return 1;
}

// Opens the database file, creating it only when it does not exist (`created` says so).
// Created here, not by SQLite, so that it is 0600 from the start (SQLite would use
// 0644 & ~umask); SQLite gives its -wal and -shm files the same mode as the database.
Result<Fd> open_db_file(const std::string& path, bool& created) {
  created = false;
  int fd = ::open(path.c_str(), kDbOpenFlags);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), kDbOpenFlags | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      created = true;
    } else if (errno == EEXIST) {
      fd = ::open(path.c_str(), kDbOpenFlags);  // created just now by an older vfhook
    }
  }
  if (fd < 0) return fail(errno_error(errno, "open claims database " + path));
  return Fd(fd);
}

// The text of /proc/sys/kernel/random/boot_id is a UUID; accept what could be one, and
// nothing that could surprise a log line or a query.
bool is_boot_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

enum class Setup {
  run,         // under the exclusive setup lock: create or migrate as needed
  check_only,  // under the shared one: nullptr unless the database is set up already
};

// The rest of Store::open, under the state directory's setup lock.
Result<std::unique_ptr<Store>> open_locked(const std::string& path, Fd file, bool created,
                                           const StoreOptions& options, Setup setup) {
  const std::chrono::milliseconds busy_timeout = options.busy_timeout;
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    return fail(errno_error(errno, "stat claims database " + path));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorKind::invalid_input, "claims database " + path + " is not a regular file");
  }
  VF_TRY(check_state_owner_and_mode(st, path, StatePart::database));
  // Older vfhook versions serialize their setup with flock on the database file itself.
  VF_ASSIGN(setup_lock,
            setup_lock(file.get(), path, busy_timeout,
                       setup == Setup::run ? FileLock::Mode::exclusive : FileLock::Mode::shared));

  // A database that is set up is never empty (switching to WAL writes its first page), and no
  // vfhook process is setting one up now (we hold the lock): an empty file that was here
  // before this open was truncated. SQLite would silently make a new database of it.
  if (!created) {
    if (::fstat(file.get(), &st) != 0) {
      return fail(errno_error(errno, "stat claims database " + path));
    }
    if (st.st_size == 0) {
      return fail(ErrorKind::invalid_input,
                  "claims database " + path +
                      " is empty (0 bytes), but it existed before vfhook opened it: it was "
                      "truncated (a full disk, a crash, a bad restore), and the claims, "
                      "reservations and VF snapshots it held may be lost. vfhook will not use "
                      "it. Restore it from a backup; if there is none, remove it (rm " +
                      path +
                      ") so that vfhook creates a new one, then check the VFs of vfhook's pools "
                      "(ip link show PF): their original settings can no longer be restored.");
    }
  }

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
      nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return fail(
        sqlite_error(raw, rc, "open", busy_timeout).with_context("claims database " + path));
  }
  sqlite3_extended_result_codes(raw, 1);
  // The timeout is carried in the handler's argument: a count of 1 ms waits.
  sqlite3_busy_handler(raw, wait_while_busy,
                       reinterpret_cast<void*>(static_cast<intptr_t>(busy_timeout.count())));
  auto store = std::make_unique<SqliteStore>(path, std::move(file), std::move(db), busy_timeout,
                                             options.boot_id);
  if (setup == Setup::check_only) {
    VF_ASSIGN(ready, store->ready());
    if (!ready) return std::unique_ptr<Store>();
    return std::unique_ptr<Store>(std::move(store));
  }
  VF_TRY(store->initialize());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const StoreOptions& options) {
  const std::chrono::milliseconds busy_timeout = options.busy_timeout;
  if (!options.boot_id.empty() && !is_boot_id(options.boot_id)) {
    return fail(ErrorKind::invalid_input, "claims database " + path + ": '" +
                                              options.boot_id.substr(0, 64) +
                                              "' is not a boot id (1-64 of A-Z a-z 0-9 -)");
  }
  // The directory first: whoever may write to it may put any file in the database's place.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return fail(errno_error(errno, "open the state directory " + dir));
  struct stat dir_st {};
  if (::fstat(dir_fd.get(), &dir_st) != 0) {
    return fail(errno_error(errno, "stat the state directory " + dir));
  }
  VF_TRY(check_state_owner_and_mode(dir_st, dir, StatePart::directory));

  // Creating the file, switching it to WAL and writing the schema happen under flock on the
  // state directory: another opener waits until the database is complete, so an empty file is
  // never one that is still being created. (SQLite's journal-mode switch also returns
  // SQLITE_BUSY at once, without a busy handler, when several processes create the database
  // together.) flock is separate from SQLite's POSIX locks.
  // Most opens find the database set up: they check that under shared locks, side by side
  // (many vfctl or hook processes at once), and only otherwise queue for the exclusive ones.
  {
    VF_ASSIGN(shared_lock, setup_lock(dir_fd.get(), path, busy_timeout, FileLock::Mode::shared));
    if (Fd existing(::open(path.c_str(), kDbOpenFlags)); existing) {
      VF_ASSIGN(store, open_locked(path, std::move(existing), false, options, Setup::check_only));
      if (store) return store;
    }
  }
  VF_ASSIGN(dir_lock, setup_lock(dir_fd.get(), path, busy_timeout));
  bool created = false;
  VF_ASSIGN(file, open_db_file(path, created));
  auto store = open_locked(path, std::move(file), created, options, Setup::run);
  if (!store && created) {
    // Leave no empty file behind for the next open to take for a truncated database.
    for (const char* suffix : {"-wal", "-shm", ""}) ::unlink((path + suffix).c_str());
  }
  return store;
}

}  // namespace vfhook
