// signal-recorder: a test target that shows who a sender signals. It starts
// four processes, each reachable by a different kind of recipient:
//   main     the process lastcall started (an HTTP server answering 200)
//   child    a child in main's process group
//   session  a child that left the group (setsid): still in main's tree
//   daemon   double-forked, reparented away: found only by its environment
// Every process prints "signal <NAME> to <role> from <pid>" for each signal
// it receives (the sender's pid, 0 from outside a PID namespace).
// On TERM or INT, main stops serving, SIGKILLs the others and exits 0,
// unless told to --ignore that signal (then it only reports it, so the
// sender's grace runs out).
// Usage: signal-recorder --port N [--ignore TERM|INT]...
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

namespace {

const char* g_role = "main";
bool g_ignore_term = false, g_ignore_int = false;
int g_stop_pipe[2] = {-1, -1};  // the handler writes a byte: stop

const struct {
  int number;
  const char* name;
} kRecorded[] = {{SIGTERM, "TERM"}, {SIGINT, "INT"},   {SIGCONT, "CONT"}, {SIGHUP, "HUP"},
                 {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}};

// Async-signal-safe: formats into a local buffer and write(2)s it.
void Append(char** p, const char* text) {
  while (*text) *(*p)++ = *text++;
}

void OnSignal(int number, siginfo_t* info, void*) {
  char line[128];
  char* p = line;
  Append(&p, "signal ");
  for (const auto& s : kRecorded)
    if (s.number == number) Append(&p, s.name);
  Append(&p, " to ");
  Append(&p, g_role);
  Append(&p, " from ");
  char digits[16];
  int n = 0;
  unsigned value = static_cast<unsigned>(info->si_pid);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  while (n) *p++ = digits[--n];
  *p++ = '\n';
  ssize_t ignored = write(STDOUT_FILENO, line, static_cast<size_t>(p - line));
  (void)ignored;
  if ((number == SIGTERM && !g_ignore_term) || (number == SIGINT && !g_ignore_int))
    ignored = write(g_stop_pipe[1], "x", 1);
}

void RecordSignals() {
  struct sigaction action {};
  action.sa_sigaction = OnSignal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (const auto& s : kRecorded) sigaction(s.number, &action, nullptr);
}

// A helper process: reports its signals until SIGKILLed by main.
[[noreturn]] void Linger(const char* role) {
  g_role = role;
  g_ignore_term = g_ignore_int = true;
  std::printf("%s pid %d\n", role, getpid());
  std::fflush(stdout);
  for (;;) pause();
}

pid_t StartChild(bool new_session) {
  pid_t pid = fork();
  if (pid == 0) {
    if (new_session) setsid();
    Linger(new_session ? "session" : "child");
  }
  return pid;
}

// Double fork: the daemon's parent exits, so the daemon is nobody's child
// that lastcall knows of. Its pid comes back through a pipe.
pid_t StartDaemon() {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t middle = fork();
  if (middle == 0) {
    setsid();
    pid_t daemon = fork();
    if (daemon == 0) {
      close(fds[0]);
      close(fds[1]);
      Linger("daemon");
    }
    ssize_t ignored = write(fds[1], &daemon, sizeof daemon);
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  pid_t daemon = -1;
  if (read(fds[0], &daemon, sizeof daemon) != sizeof daemon) daemon = -1;
  close(fds[0]);
  waitpid(middle, nullptr, 0);
  return daemon;
}

// Arguments come in pairs: --port N, --ignore TERM, --ignore INT.
bool ParseArguments(int argc, char** argv, int* port) {
  if ((argc - 1) % 2 != 0) return false;
  for (int i = 1; i < argc; i += 2) {
    std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--port")
      *port = std::atoi(value.c_str());
    else if (arg == "--ignore" && value == "TERM")
      g_ignore_term = true;
    else if (arg == "--ignore" && value == "INT")
      g_ignore_int = true;
    else
      return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  if (!ParseArguments(argc, argv, &port)) {
    std::fprintf(stderr, "usage: signal-recorder --port N [--ignore TERM|INT]...\n");
    return 2;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (pipe(g_stop_pipe) != 0) return 1;
  RecordSignals();
  std::vector<pid_t> others = {StartChild(false), StartChild(true), StartDaemon()};

  httplib::Server server;
  server.Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Post(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  if (!server.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  std::thread serving([&] { server.listen_after_bind(); });
  std::printf("main pid %d listening on %d\n", getpid(), port);
  char byte;
  while (read(g_stop_pipe[0], &byte, 1) != 1) {
  }
  server.stop();
  serving.join();
  for (pid_t pid : others)
    if (pid > 0) kill(pid, SIGKILL);
  for (pid_t pid : others)
    if (pid > 0) waitpid(pid, nullptr, 0);  // the daemon is not ours: ECHILD
  std::printf("main exiting\n");
  return 0;
}
