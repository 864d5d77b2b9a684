#include "process/load_balancer.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/temp_dir.h"
#include "base/wait_until.h"
#include "process/crafted_listener.h"

namespace lastcall {
namespace {

TEST_CASE("The HAProxy configuration follows the scenario", "[load_balancer]") {
  LoadBalancerSpec spec;
  spec.check_path = "/readyz";
  spec.check_interval = std::chrono::milliseconds(100);
  spec.rise = 2;
  spec.fall = 3;
  spec.retries = 0;
  std::string cfg = HaproxyConfig(spec, 8000, {8001, 8002}, "/w/haproxy.sock");
  CHECK(cfg.find("stats socket /w/haproxy.sock mode 600 level admin\n") != std::string::npos);
  CHECK(cfg.find("bind 127.0.0.1:8000\n") != std::string::npos);
  CHECK(cfg.find("option httpchk GET /readyz\n") != std::string::npos);
  CHECK(cfg.find("default-server inter 100 rise 2 fall 3\n") != std::string::npos);
  CHECK(cfg.find("server instance1 127.0.0.1:8001 check\n") != std::string::npos);
  CHECK(cfg.find("server instance2 127.0.0.1:8002 check\n") != std::string::npos);
  CHECK(cfg.find("retries 0\n") != std::string::npos);
  CHECK(cfg.find("redispatch") == std::string::npos);
  spec.redispatch = true;
  CHECK(HaproxyConfig(spec, 8000, {8001}, "/s").find("option redispatch\n") != std::string::npos);
}

TEST_CASE("A server's status is read from show stat", "[load_balancer]") {
  const std::string csv =
      "# pxname,svname,qcur,status,weight\n"
      "instances,instance1,0,UP,1\n"
      "instances,instance2,0,MAINT,1\n"
      "instances,instance3,0,UP 1/3,1\n"
      "\n";
  CHECK(ServerStatus(csv, "instance1") == "UP");
  CHECK(ServerStatus(csv, "instance2") == "MAINT");
  CHECK(ServerStatus(csv, "instance3") == "UP 1/3");
  CHECK(ServerStatus(csv, "instance4") == "");
  CHECK(ServerStatus("", "instance1") == "");
}

// The real HAProxy: started, asked, told, stopped; nothing is left.
TEST_CASE("HAProxy starts and answers its runtime API and stops", "[load_balancer]") {
  TempDir dir;
  LoadBalancerSpec spec;
  spec.check_interval = std::chrono::milliseconds(50);
  std::string error;
  pid_t pid = 0;
  {
    std::unique_ptr<LoadBalancer> lb =
        LoadBalancer::Start(spec, crafted::FreeLoopbackPort(), {crafted::FreeLoopbackPort()},
                            dir.path.string(), &error);
    REQUIRE(lb != nullptr);
    pid = lb->pid();
    CHECK(std::filesystem::status(dir.path.string() + "/haproxy.sock").permissions() ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    // Nothing listens on the instance's port: the checks fail it out.
    CHECK(WaitUntil([&] { return lb->Status(0, &error) == "DOWN"; }));
    CHECK_FALSE(lb->Up(0));
    REQUIRE(lb->SetState(0, "maint", &error));
    CHECK(lb->Status(0, &error) == "MAINT");
    CHECK_FALSE(lb->SetState(7, "maint", &error));
    CHECK(error.find("instance8") != std::string::npos);
  }
  CHECK(kill(pid, 0) == -1);
}

TEST_CASE("HAProxy that cannot bind its port is an error with its log", "[load_balancer]") {
  TempDir dir;
  int taken = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  listen(taken, 1);
  getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string error;
  CHECK(LoadBalancer::Start(LoadBalancerSpec(), ntohs(addr.sin_port), {crafted::FreeLoopbackPort()},
                            dir.path.string(), &error) == nullptr);
  CHECK(error.find("HAProxy exit") != std::string::npos);
  CHECK(error.find("cannot bind socket") != std::string::npos);
  close(taken);
}

}  // namespace
}  // namespace lastcall
