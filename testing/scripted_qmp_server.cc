#include "testing/scripted_qmp_server.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "qmp/json.h"

namespace vfhook {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::runtime_error system_failure(const std::string& what) {
  return std::runtime_error("ScriptedQmpServer: " + what + ": " + std::strerror(errno));
}

std::string replace_id(std::string text, const std::string& id) {
  for (size_t at = text.find("$ID"); at != std::string::npos; at = text.find("$ID", at)) {
    text.replace(at, 3, id);
    at += id.size();
  }
  return text;
}

std::string compact(json_object* object) {
  return json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN);
}

// Milliseconds left until `deadline`, at least 0.
int ms_until(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool send_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ScriptedQmpServer::ScriptedQmpServer() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/vfhook-qmp-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw system_failure("mkdtemp " + pattern);
  directory_ = pattern;
  socket_path_ = directory_ + "/qmp.sock";

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("ScriptedQmpServer: socket path too long: " + socket_path_);
  }
  std::memcpy(address.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  listener_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_) throw system_failure("socket");
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
    throw system_failure("bind " + socket_path_);
  }
  if (::listen(listener_.get(), 4) < 0) throw system_failure("listen");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) throw system_failure("pipe2");
  stop_read_ = Fd(pipe_fds[0]);
  stop_write_ = Fd(pipe_fds[1]);
}

ScriptedQmpServer::~ScriptedQmpServer() {
  if (thread_.joinable()) {
    char byte = 0;
    (void)!::write(stop_write_.get(), &byte, 1);
    thread_.join();
  }
  listener_.reset();
  ::unlink(socket_path_.c_str());
  ::rmdir(directory_.c_str());
}

ScriptedQmpServer& ScriptedQmpServer::greet() {
  return send(
      "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, "
      "\"package\": \"Debian 1:10.0.0+ds-1\"}, \"capabilities\": [\"oob\"]}}\r\n");
}

ScriptedQmpServer& ScriptedQmpServer::handshake() {
  return greet().expect("qmp_capabilities").reply();
}

ScriptedQmpServer& ScriptedQmpServer::send(std::string text) {
  steps_.push_back({Step::Kind::send, std::move(text), ""});
  return *this;
}

ScriptedQmpServer& ScriptedQmpServer::send_bytewise(std::string text) {
  steps_.push_back({Step::Kind::send_bytewise, std::move(text), ""});
  return *this;
}

ScriptedQmpServer& ScriptedQmpServer::expect(std::string command, std::string arguments_json) {
  steps_.push_back({Step::Kind::expect, std::move(command), std::move(arguments_json)});
  return *this;
}

ScriptedQmpServer& ScriptedQmpServer::reply(std::string return_json) {
  return send("{\"return\": " + return_json + ", \"id\": $ID}\r\n");
}

ScriptedQmpServer& ScriptedQmpServer::reply_error(std::string error_class, std::string desc) {
  JsonPtr error(json_object_new_object());
  json_object_object_add(error.get(), "class", json_object_new_string(error_class.c_str()));
  json_object_object_add(error.get(), "desc", json_object_new_string(desc.c_str()));
  return send("{\"error\": " + compact(error.get()) + ", \"id\": $ID}\r\n");
}

ScriptedQmpServer& ScriptedQmpServer::event(std::string name, std::string data_json) {
  return send("{\"event\": \"" + name + "\", \"data\": " + data_json +
              ", \"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 250}}\r\n");
}

ScriptedQmpServer& ScriptedQmpServer::stall() {
  steps_.push_back({Step::Kind::stall, "", ""});
  return *this;
}

ScriptedQmpServer& ScriptedQmpServer::close() {
  steps_.push_back({Step::Kind::close, "", ""});
  return *this;
}

void ScriptedQmpServer::start() {
  thread_ = std::thread([this] { run(); });
}

std::vector<std::string> ScriptedQmpServer::finish() {
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  return failures_;
}

std::vector<std::string> ScriptedQmpServer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void ScriptedQmpServer::record_failure(std::string what) {
  std::lock_guard lock(mutex_);
  failures_.push_back(std::move(what));
}

void ScriptedQmpServer::run() {
  pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
  int n = ::poll(fds, 2, static_cast<int>(std::chrono::milliseconds(kStepTimeout).count()));
  if (n <= 0 || (fds[1].revents & POLLIN)) {
    record_failure("no client connected");
    return;
  }
  Fd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!connection) {
    record_failure(std::string("accept: ") + std::strerror(errno));
    return;
  }
  play(connection.get());
}

bool ScriptedQmpServer::read_line(int connection, std::string& line, std::string& why) {
  const auto deadline = SteadyClock::now() + kStepTimeout;
  for (;;) {
    size_t end = pending_.find('\n');
    if (end != std::string::npos) {
      line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      return true;
    }
    pollfd fds[2] = {{connection, POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, ms_until(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    if (fds[1].revents & POLLIN) {
      why = "the test stopped the server";
      return false;
    }
    if (n == 0) {
      why = "nothing came within " + std::to_string(kStepTimeout.count()) + " s";
      return false;
    }
    char buffer[4096];
    ssize_t got = ::recv(connection, buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      why = got == 0 ? "the client closed the connection" : std::strerror(errno);
      return false;
    }
    pending_.append(buffer, static_cast<size_t>(got));
  }
}

void ScriptedQmpServer::play(int connection) {
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::Kind::send:
        if (!send_all(connection, replace_id(step.text, last_id_))) {
          record_failure("could not send " + step.text.substr(0, 80));
          return;
        }
        break;
      case Step::Kind::send_bytewise:
        for (char byte : replace_id(step.text, last_id_)) {
          if (!send_all(connection, std::string(1, byte))) {
            record_failure("could not send " + step.text.substr(0, 80));
            return;
          }
          std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
        break;
      case Step::Kind::expect: {
        std::string line, why;
        if (!read_line(connection, line, why)) {
          record_failure("expected " + step.text + ", but " + why);
          return;
        }
        JsonPtr command(json_tokener_parse(line.c_str()));
        if (!json_object_is_type(command.get(), json_type_object)) {
          record_failure("expected " + step.text +
                         ", got a line that is not a JSON object: " + line);
          return;
        }
        {
          std::lock_guard lock(mutex_);
          received_.push_back(compact(command.get()));
        }
        json_object* execute = nullptr;
        json_object* id = nullptr;
        json_object* arguments = nullptr;
        json_object_object_get_ex(command.get(), "execute", &execute);
        json_object_object_get_ex(command.get(), "arguments", &arguments);
        last_id_ = json_object_object_get_ex(command.get(), "id", &id) ? compact(id) : "null";
        if (!json_object_is_type(execute, json_type_string) ||
            json_object_get_string(execute) != step.text) {
          record_failure("expected " + step.text + ", got " + line);
        } else if (!step.arguments.empty()) {
          JsonPtr wanted(json_tokener_parse(step.arguments.c_str()));
          if (!wanted) {
            record_failure("the script's arguments for " + step.text +
                           " are not JSON: " + step.arguments);
          } else if (!json_object_equal(wanted.get(), arguments)) {
            record_failure(step.text + ": expected arguments " + compact(wanted.get()) + ", got " +
                           (arguments ? compact(arguments) : "none"));
          }
        }
        break;
      }
      case Step::Kind::stall: {
        // Reads whatever comes (a client that times out may send more) until it closes.
        std::string line, why;
        while (read_line(connection, line, why)) {
          std::lock_guard lock(mutex_);
          received_.push_back(line);
        }
        if (why != "the client closed the connection") record_failure("stall: " + why);
        return;
      }
      case Step::Kind::close:
        return;
    }
  }
  std::string line, why;
  while (read_line(connection, line, why)) {
    record_failure("a command after the end of the script: " + line);
    std::lock_guard lock(mutex_);
    received_.push_back(line);
  }
  if (why != "the client closed the connection") record_failure("after the script: " + why);
}

}  // namespace vfhook
