// ScriptedQmpServer: a fake QEMU QMP monitor for tests, a real unix socket server on a
// thread, so the client under test runs over the real UnixSocketTransport.
//
// A test writes the script first, then start()s it and connects to socket_path():
//   ScriptedQmpServer qemu;
//   qemu.handshake().expect("query-pci").event("RTC_CHANGE").reply(kTree);
//   qemu.start();
//   auto client = QmpClient::connect(qemu.socket_path(), clock, 5s);
//   ...
//   EXPECT_THAT(qemu.finish(), IsEmpty());  // every expectation held
// The server accepts one client and plays the steps in order: sends bytes, reads one command
// per expect() (a line of JSON) and checks its "execute" and, when given, its "arguments";
// "$ID" in anything it sends becomes the id of the last command read (as JSON). After the
// last step it keeps the connection open until the client closes it, and a command it reads
// then is a failure. Every wait is bounded (kStepTimeout), so a broken test ends.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/fd.h"

namespace vfhook {

class ScriptedQmpServer {
 public:
  static constexpr std::chrono::seconds kStepTimeout{10};

  ScriptedQmpServer();  // listens on a socket in a new temporary directory
  ~ScriptedQmpServer();
  ScriptedQmpServer(const ScriptedQmpServer&) = delete;
  ScriptedQmpServer& operator=(const ScriptedQmpServer&) = delete;

  // QEMU 10.0's greeting: {"QMP":{"version":{"qemu":{"micro":0,"minor":0,"major":10},...}}.
  ScriptedQmpServer& greet();
  // greet(), expect("qmp_capabilities"), reply().
  ScriptedQmpServer& handshake();
  // `text` as it is, in one write ("$ID" replaced).
  ScriptedQmpServer& send(std::string text);
  // `text` one byte per write, each after a short pause, so the client's reads split it.
  ScriptedQmpServer& send_bytewise(std::string text);
  // Reads the next command; a failure unless its "execute" is `command` and, when
  // `arguments_json` is not empty, its "arguments" equal that JSON.
  ScriptedQmpServer& expect(std::string command, std::string arguments_json = "");
  // {"return": <return_json>, "id": $ID}
  ScriptedQmpServer& reply(std::string return_json = "{}");
  // {"error": {"class": ..., "desc": ...}, "id": $ID}
  ScriptedQmpServer& reply_error(std::string error_class, std::string desc);
  // {"event": name, "data": <data_json>, "timestamp": {...}}
  ScriptedQmpServer& event(std::string name, std::string data_json = "{}");
  // Sends nothing and reads nothing until the client closes the connection.
  ScriptedQmpServer& stall();
  // Closes the connection (the client sees the end of the stream).
  ScriptedQmpServer& close();

  void start();
  [[nodiscard]] const std::string& socket_path() const { return socket_path_; }
  // Waits for the script to end and returns what did not go as scripted (empty: all did).
  // A script that ends in stall() ends when the client closes: destroy the client first.
  std::vector<std::string> finish();
  // Every command read, as compact JSON, in order.
  [[nodiscard]] std::vector<std::string> received() const;

 private:
  struct Step {
    enum class Kind { send, send_bytewise, expect, stall, close } kind;
    std::string text;       // send: the bytes; expect: the command
    std::string arguments;  // expect: the arguments' JSON, or empty
  };

  void run();
  void play(int connection);
  // Reads the next line from `connection`; false at the end of the stream, a stop or the
  // step timeout (then `why` says which).
  bool read_line(int connection, std::string& line, std::string& why);
  void record_failure(std::string what);

  std::vector<Step> steps_;
  std::string directory_;
  std::string socket_path_;
  Fd listener_;
  Fd stop_read_;  // readable once the destructor asks the thread to stop
  Fd stop_write_;
  std::thread thread_;
  std::string pending_;  // bytes read past the last line
  std::string last_id_ = "null";
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
  std::vector<std::string> received_;
};

}  // namespace vfhook
