#include "qmp/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "testing/fake_clock.h"
#include "testing/memory_qmp_transport.h"
#include "testing/scripted_qmp_server.h"

namespace vfhook {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

#define ASSERT_OK(result) ASSERT_TRUE(result) << (result).error().message

constexpr auto kTimeout = 5s;

// A client connected to a ScriptedQmpServer; the client goes before the server's finish(),
// since a script ends when its client closes.
class QmpClientTest : public ::testing::Test {
 protected:
  // Plays the script and connects (the handshake included).
  void start_and_connect() {
    qemu_.start();
    auto client = QmpClient::connect(qemu_.socket_path(), clock_, kTimeout);
    ASSERT_OK(client);
    client_.emplace(std::move(*client));
  }
  std::vector<std::string> close_and_finish() {
    client_.reset();
    return qemu_.finish();
  }

  SystemClock clock_;
  ScriptedQmpServer qemu_;
  std::optional<QmpClient> client_;
};

TEST_F(QmpClientTest, HandshakeReadsTheGreetingAndNegotiatesCapabilitiesFirst) {
  qemu_.handshake().expect("query-status").reply(R"({"status":"running","running":true})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  EXPECT_EQ(client_->qemu_version().major, 10);
  EXPECT_EQ(client_->qemu_version().minor, 0);
  EXPECT_EQ(client_->qemu_version().package, "Debian 1:10.0.0+ds-1");

  auto status = client_->execute("query-status", nullptr, kTimeout);
  ASSERT_OK(status);
  EXPECT_EQ(json_text(status->get()), R"({"status":"running","running":true})");
  EXPECT_THAT(close_and_finish(), IsEmpty());
  EXPECT_THAT(qemu_.received(), ElementsAre(R"({"execute":"qmp_capabilities","id":1})",
                                            R"({"execute":"query-status","id":2})"));
}

TEST_F(QmpClientTest, AReplySplitByteByByteAcrossReadsIsReadWhole) {
  qemu_.greet()
      .expect("qmp_capabilities")
      .send_bytewise("{\"return\": {}, \"id\": $ID}\r\n")
      .expect("query-name")
      .send_bytewise("{\"return\": {\"name\": \"vm-1\"}, \"id\": $ID}\r\n")
      // One more command, so the server has sent the last CRLF before the client leaves.
      .expect("query-status")
      .reply(R"({"status":"running","running":true})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_OK(name);
  EXPECT_EQ(json_text(name->get()), R"({"name":"vm-1"})");
  ASSERT_OK(client_->execute("query-status", nullptr, kTimeout));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, SeveralMessagesInOneReadAreAllHandled) {
  qemu_.handshake()
      .expect("query-name")
      .send(
          "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 1}}\r\n"
          "{\"event\": \"RESUME\"}\r\n"
          "{\"return\": {\"name\": \"vm-1\"}, \"id\": $ID}\r\n");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_OK(name);
  EXPECT_EQ(json_text(name->get()), R"({"name":"vm-1"})");
  EXPECT_EQ(client_->queued_events(), 2u);
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, EventsBeforeAReplyAreQueuedAndLaterReturnedByWaitForEvent) {
  qemu_.handshake()
      .expect("device_del", R"({"id":"vf0"})")
      .event("DEVICE_DELETED", R"({"device":"other","path":"/machine/peripheral/other"})")
      .event("DEVICE_DELETED", R"({"device":"vf0","path":"/machine/peripheral/vf0"})")
      .reply();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  JsonPtr arguments(json_tokener_parse(R"({"id":"vf0"})"));
  ASSERT_OK(client_->execute("device_del", std::move(arguments), kTimeout));
  EXPECT_EQ(client_->queued_events(), 2u);

  auto is_vf0 = [](const QmpEvent& event) {
    json_object* device = nullptr;
    return json_object_object_get_ex(event.data.get(), "device", &device) &&
           std::string(json_object_get_string(device)) == "vf0";
  };
  // From the queue: no wait at all, even with a zero timeout.
  auto deleted = client_->wait_for_event("DEVICE_DELETED", is_vf0, 0s);
  ASSERT_OK(deleted);
  EXPECT_EQ(deleted->name, "DEVICE_DELETED");
  EXPECT_EQ(json_text(deleted->data.get()), R"({"device":"vf0","path":"/machine/peripheral/vf0"})");
  EXPECT_EQ(deleted->seconds, 1700000000);
  EXPECT_EQ(deleted->microseconds, 250);
  // The event it passed over stays queued.
  EXPECT_EQ(client_->queued_events(), 1u);
  auto other = client_->wait_for_event("DEVICE_DELETED", nullptr, 0s);
  ASSERT_OK(other);
  EXPECT_EQ(client_->queued_events(), 0u);
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, WaitForEventReadsUntilAMatchingEventAndQueuesTheOthers) {
  qemu_.handshake()
      .expect("system_powerdown")
      .reply()
      .event("RESET")
      .event("POWERDOWN")
      .event("SHUTDOWN", R"({"guest":true,"reason":"guest-shutdown"})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  ASSERT_OK(client_->execute("system_powerdown", nullptr, kTimeout));
  auto shutdown = client_->wait_for_event("SHUTDOWN", nullptr, kTimeout);
  ASSERT_OK(shutdown);
  EXPECT_EQ(json_text(shutdown->data.get()), R"({"guest":true,"reason":"guest-shutdown"})");
  EXPECT_EQ(client_->queued_events(), 2u);
  auto reset = client_->wait_for_event("RESET", nullptr, 0s);
  ASSERT_OK(reset);
  EXPECT_EQ(json_text(reset->data.get()), "{}");  // no "data": an empty object
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, RepliesWithAnUnknownIdOrNoIdAreDropped) {
  qemu_.handshake()
      .expect("query-name")
      .send("{\"return\": \"late answer\", \"id\": 999}\r\n")
      .send("{\"return\": \"wrong type\", \"id\": \"$ID\"}\r\n")
      .send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no id\"}}\r\n")
      .reply(R"({"name":"vm-1"})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_OK(name);
  EXPECT_EQ(json_text(name->get()), R"({"name":"vm-1"})");
  EXPECT_EQ(client_->dropped_replies(), 3u);
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, AnErrorReplyBecomesAnErrorWithClassAndDescription) {
  qemu_.handshake()
      .expect("device_add")
      .reply_error("GenericError", "vfio 0000:03:10.1: group 12 is not viable")
      .expect("device_del")
      .reply_error("DeviceNotFound", "Device 'vf9' not found")
      .expect("query-name")
      .reply(R"({})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto added = client_->execute("device_add", nullptr, kTimeout);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, ErrorKind::conflict);
  EXPECT_THAT(added.error().message,
              HasSubstr("QEMU refused device_add: GenericError: vfio 0000:03:10.1: group 12 is "
                        "not viable"));

  auto deleted = client_->execute_raw("device_del", nullptr, kTimeout);
  ASSERT_OK(deleted);
  ASSERT_TRUE(deleted->error);
  EXPECT_EQ(deleted->error->error_class, "DeviceNotFound");
  EXPECT_EQ(deleted->error->desc, "Device 'vf9' not found");
  // An error reply leaves the connection usable.
  ASSERT_OK(client_->execute("query-name", nullptr, kTimeout));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, ErrorClassesMapToErrorKinds) {
  EXPECT_EQ(qmp_error_kind("DeviceNotFound"), ErrorKind::not_found);
  EXPECT_EQ(qmp_error_kind("CommandNotFound"), ErrorKind::not_found);
  EXPECT_EQ(qmp_error_kind("DeviceNotActive"), ErrorKind::conflict);
  EXPECT_EQ(qmp_error_kind("KVMMissingCap"), ErrorKind::os);
  EXPECT_EQ(qmp_error_kind("GenericError"), ErrorKind::conflict);
  EXPECT_EQ(qmp_error_kind("SomethingNew"), ErrorKind::conflict);
}

TEST_F(QmpClientTest, GarbageIsInvalidInputAndBreaksTheConnection) {
  qemu_.handshake().expect("query-name").send("Segmentation fault (core dumped)\r\n");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(name.error().message, HasSubstr("waiting for the reply to query-name"));
  EXPECT_THAT(name.error().message, HasSubstr("not a JSON object (it starts with 'S')"));

  auto again = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(again.error().message, HasSubstr("no longer usable"));
  auto event = client_->wait_for_event("STOP", nullptr, kTimeout);
  ASSERT_FALSE(event);
  EXPECT_THAT(event.error().message, HasSubstr("no longer usable"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, JsonThatIsNotAnObjectIsInvalidInput) {
  qemu_.handshake().expect("query-name").send("[\"return\", {}]\r\n");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(name.error().message, HasSubstr("not a JSON object (it starts with '[')"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, AnObjectThatIsNeitherReplyNorEventIsInvalidInput) {
  qemu_.handshake().expect("query-name").send("{\"hello\": \"there\"}\r\n");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(name.error().message, HasSubstr("neither a reply nor an event"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, MalformedEventsAndErrorRepliesAreInvalidInput) {
  qemu_.handshake()
      .expect("query-name")
      .send("{\"error\": {\"class\": 7, \"desc\": \"x\"}, \"id\": $ID}\r\n")
      .expect("query-name")
      .send("{\"event\": \"STOP\", \"data\": \"not an object\"}\r\n");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto bad_error = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(bad_error);
  EXPECT_EQ(bad_error.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(bad_error.error().message,
              HasSubstr("error.class: expected a string, got an integer"));
  auto bad_event = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(bad_event);
  EXPECT_EQ(bad_event.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(bad_event.error().message, HasSubstr("event STOP.data: expected an object"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, AnOverlongMessageIsInvalidInput) {
  qemu_.handshake()
      .expect("query-pci")
      .send("{\"return\": \"" + std::string(1100 * 1024, 'x') + "\", \"id\": $ID}\r\n");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto pci = client_->execute("query-pci", nullptr, kTimeout);
  ASSERT_FALSE(pci);
  EXPECT_EQ(pci.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(pci.error().message, HasSubstr("longer than 1048576 bytes"));
  // The server may not get the whole message out before the client leaves: not checked.
  close_and_finish();
}

TEST_F(QmpClientTest, TheTransportTellsWhoListensOnTheSocket) {
  qemu_.handshake();
  qemu_.start();
  SystemClock clock;
  auto transport = UnixSocketTransport::connect(qemu_.socket_path(), clock, clock.now() + kTimeout);
  ASSERT_OK(transport);
  auto peer = (*transport)->peer_credentials();
  ASSERT_OK(peer);
  // The scripted server listens in this process.
  EXPECT_EQ(peer->pid, ::getpid());
  EXPECT_EQ(peer->uid, ::getuid());
  EXPECT_EQ(peer->gid, ::getgid());
  {
    auto client = QmpClient::start(std::move(*transport), qemu_.socket_path(), clock, kTimeout);
    ASSERT_OK(client);
  }  // closed: the script ends
  EXPECT_THAT(qemu_.finish(), IsEmpty());
}

TEST_F(QmpClientTest, QmpCapabilitiesReturningTheWrongTypeFailsTheConnect) {
  qemu_.greet().expect("qmp_capabilities").reply("[]");
  qemu_.start();
  auto client = QmpClient::connect(qemu_.socket_path(), clock_, kTimeout);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(client.error().message, HasSubstr("qmp_capabilities returned an array"));
  EXPECT_THAT(qemu_.finish(), IsEmpty());
}

TEST_F(QmpClientTest, AMessageOtherThanTheGreetingFirstFailsTheConnect) {
  qemu_.send("{\"return\": {}, \"id\": 1}\r\n");
  qemu_.start();
  auto client = QmpClient::connect(qemu_.socket_path(), clock_, kTimeout);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(client.error().message, HasSubstr("expected {\"QMP\": ...} first"));
  EXPECT_THAT(qemu_.finish(), IsEmpty());
}

TEST_F(QmpClientTest, AGreetingWithWrongTypesFailsTheConnect) {
  qemu_.send("{\"QMP\": {\"version\": {\"qemu\": {\"major\": \"10\"}}, \"capabilities\": []}}\r\n");
  qemu_.start();
  auto client = QmpClient::connect(qemu_.socket_path(), clock_, kTimeout);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(client.error().message,
              HasSubstr("QMP.version.qemu.major: expected an integer, got a string"));
  EXPECT_THAT(qemu_.finish(), IsEmpty());
}

TEST_F(QmpClientTest, ThePeerClosingMidWaitIsReportedWithTheCommand) {
  qemu_.handshake().expect("device_add").close();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto added = client_->execute("device_add", nullptr, kTimeout);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, ErrorKind::os);
  EXPECT_THAT(added.error().message,
              HasSubstr("QEMU closed the QMP connection " + qemu_.socket_path() +
                        " while waiting for the reply to device_add"));
  auto again = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().message, HasSubstr("no longer usable"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, ThePeerClosingInsideAMessageSaysSo) {
  qemu_.handshake().expect("query-pci").send("{\"return\": [{\"bus\": 0, ").close();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto pci = client_->execute("query-pci", nullptr, kTimeout);
  ASSERT_FALSE(pci);
  EXPECT_THAT(pci.error().message, HasSubstr("in the middle of a message"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, AStalledPeerTimesOutNamingTheCommand) {
  qemu_.handshake().expect("device_add").stall();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  const auto started = std::chrono::steady_clock::now();
  auto added = client_->execute("device_add", nullptr, 200ms);
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, ErrorKind::timeout);
  EXPECT_THAT(added.error().message, HasSubstr("no reply to device_add within 0.2 s"));
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 3s);
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, AStalledPeerMidMessageTimesOut) {
  qemu_.handshake().expect("query-pci").send("{\"return\": [").stall();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto pci = client_->execute("query-pci", nullptr, 200ms);
  ASSERT_FALSE(pci);
  EXPECT_EQ(pci.error().kind, ErrorKind::timeout);
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpClientTest, ALateReplyAfterATimeoutIsDroppedByTheNextCommand) {
  qemu_.handshake()
      .expect("query-pci")
      .expect("query-name")
      .send("{\"return\": [], \"id\": 2}\r\n")  // query-pci's, after it timed out
      .reply(R"({"name":"vm-1"})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto pci = client_->execute("query-pci", nullptr, 100ms);
  ASSERT_FALSE(pci);
  EXPECT_EQ(pci.error().kind, ErrorKind::timeout);
  auto name = client_->execute("query-name", nullptr, kTimeout);
  ASSERT_OK(name);
  EXPECT_EQ(json_text(name->get()), R"({"name":"vm-1"})");
  EXPECT_EQ(client_->dropped_replies(), 1u);
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST(QmpClientConnectTest, AMissingSocketIsNotFound) {
  SystemClock clock;
  auto client = QmpClient::connect("/nonexistent/vfhook-test/qmp.sock", clock, 1s);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::not_found);
  EXPECT_THAT(client.error().message, HasSubstr("/nonexistent/vfhook-test/qmp.sock"));
}

TEST(QmpClientConnectTest, ASocketPathTooLongForAnAddressIsInvalidInput) {
  SystemClock clock;
  auto client = QmpClient::connect("/tmp/" + std::string(200, 'a'), clock, 1s);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::invalid_input);
}

// Deadlines on a FakeClock, over the in-memory transport.
constexpr std::string_view kGreeting =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, "
    "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";

TEST(QmpClientFakeClockTest, NoGreetingTimesOutAndSuggestsAnotherClient) {
  FakeClock clock;
  auto client =
      QmpClient::start(std::make_unique<MemoryQmpTransport>(clock), "vm-1.qmp", clock, 30s);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::timeout);
  EXPECT_THAT(client.error().message, HasSubstr("no QMP greeting within 30 s"));
  EXPECT_THAT(client.error().message, HasSubstr("one client at a time"));
  EXPECT_EQ(clock.slept(), 30s);
}

TEST(QmpClientFakeClockTest, AStalledCommandTimesOutAtItsDeadline) {
  FakeClock clock;
  auto transport = std::make_unique<MemoryQmpTransport>(clock);
  MemoryQmpTransport* stream = transport.get();
  stream->add_input(std::string(kGreeting));
  stream->add_input("{\"return\": {}, \"id\": 1}\r\n");
  auto client = QmpClient::start(std::move(transport), "vm-1.qmp", clock, 5s);
  ASSERT_OK(client);
  EXPECT_EQ(clock.slept(), 0s);
  stream->add_input("{\"return\": {\"status\": ");  // and then nothing
  auto status = client->execute("query-status", nullptr, 90s);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::timeout);
  EXPECT_THAT(status.error().message, HasSubstr("no reply to query-status within 90 s"));
  EXPECT_EQ(clock.slept(), 90s);
  EXPECT_EQ(stream->sent(),
            "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n"
            "{\"execute\":\"query-status\",\"id\":2}\r\n");
}

TEST(QmpClientFakeClockTest, TheEventQueueKeepsTheNewestAndCountsTheDropped) {
  FakeClock clock;
  auto transport = std::make_unique<MemoryQmpTransport>(clock);
  MemoryQmpTransport* stream = transport.get();
  stream->add_input(std::string(kGreeting));
  stream->add_input("{\"return\": {}, \"id\": 1}\r\n");
  auto client = QmpClient::start(std::move(transport), "vm-1.qmp", clock, 5s);
  ASSERT_OK(client);
  std::string flood;
  for (int i = 0; i < 300; ++i) {
    flood += "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": " + std::to_string(i) + "}}\r\n";
  }
  stream->add_input(flood + "{\"return\": {}, \"id\": 2}\r\n");
  ASSERT_OK(client->execute("stop", nullptr, 5s));
  EXPECT_EQ(client->queued_events(), QmpClient::kMaxQueuedEvents);
  EXPECT_EQ(client->dropped_events(), 300 - QmpClient::kMaxQueuedEvents);
  auto oldest = client->wait_for_event("RTC_CHANGE", nullptr, 0s);
  ASSERT_OK(oldest);
  EXPECT_EQ(json_text(oldest->data.get()), "{\"offset\":44}");
}

TEST(QmpClientFakeClockTest, TheEndOfTheStreamBeforeTheGreetingIsReported) {
  FakeClock clock;
  auto transport = std::make_unique<MemoryQmpTransport>(clock);
  transport->close_input();
  auto client = QmpClient::start(std::move(transport), "vm-1.qmp", clock, 5s);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().kind, ErrorKind::os);
  EXPECT_THAT(client.error().message,
              HasSubstr("QEMU closed the QMP connection vm-1.qmp while waiting for the QMP "
                        "greeting"));
}

}  // namespace
}  // namespace vfhook
