#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "peers/docker_inspect.h"
#include "peers/peer_plan.h"

namespace awf::peers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// `docker run -d --name awmg-mcpg --network bridge -p 127.0.0.1:8080:8080 --expose 8081 ...`
// as dockerd 20.10 describes it (GET /containers/awmg-mcpg/json), running and then stopped.
constexpr const char* kRunning = R"json({"Id":"cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9","Created":"2026-12-06T22:59:03.075240893Z","Path":"/bin/busybox","Args":["sh","-c","/bin/busybox httpd -p 8080 -h /www && exec /bin/busybox httpd -f -p 8081 -h /www"],"State":{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":10255,"ExitCode":0,"Error":"","StartedAt":"2026-12-06T22:59:04.041610533Z","FinishedAt":"0001-01-01T00:00:00Z"},"Image":"sha256:9541d230a464a03f644a2b9abc9030a4843dba660d3d5569bbad8bdead270150","ResolvConfPath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/resolv.conf","HostnamePath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/hostname","HostsPath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/hosts","LogPath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9-json.log","Name":"/awmg-mcpg","RestartCount":0,"Driver":"vfs","Platform":"linux","MountLabel":"","ProcessLabel":"","AppArmorProfile":"","ExecIDs":null,"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"bridge","PortBindings":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"CgroupnsMode":"host","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"private","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":67108864,"Runtime":"runc","ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"KernelMemory":0,"KernelMemoryTCP":0,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":false,"PidsLimit":null,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"],"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]},"GraphDriver":{"Data":null,"Name":"vfs"},"Mounts":[],"Config":{"Hostname":"cbe19bd955bc","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"8080/tcp":{},"8081/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/busybox","sh","-c","/bin/busybox httpd -p 8080 -h /www && exec /bin/busybox httpd -f -p 8081 -h /www"],"Image":"awf-test-busybox","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}},"NetworkSettings":{"Bridge":"","SandboxID":"2b15fac9e70a0ea3c1e4db3b2c0f5c0048f999debc1bef0716db41f3a0446e46","HairpinMode":false,"LinkLocalIPv6Address":"","LinkLocalIPv6PrefixLen":0,"Ports":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}],"8081/tcp":null},"SandboxKey":"/tmp/peers-dtry.xkUK/exec/netns/2b15fac9e70a","SecondaryIPAddresses":null,"SecondaryIPv6Addresses":null,"EndpointID":"d893e7d71ca0db758788a2709a1afc6bc73eea5b9934bc1f86d436b4a4634d8f","Gateway":"192.0.2.1","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"IPAddress":"192.0.2.2","IPPrefixLen":24,"IPv6Gateway":"","MacAddress":"02:42:c0:00:02:02","Networks":{"bridge":{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"dd3c301160f6dbbeee87ffbbe4f0a2b9288d4f6c550f9a9f07dc15554a261011","EndpointID":"d893e7d71ca0db758788a2709a1afc6bc73eea5b9934bc1f86d436b4a4634d8f","Gateway":"192.0.2.1","IPAddress":"192.0.2.2","IPPrefixLen":24,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"02:42:c0:00:02:02","DriverOpts":null}}}})json";
constexpr const char* kStopped = R"json({"Id":"cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9","Created":"2026-12-06T22:59:03.075240893Z","Path":"/bin/busybox","Args":["sh","-c","/bin/busybox httpd -p 8080 -h /www && exec /bin/busybox httpd -f -p 8081 -h /www"],"State":{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":137,"Error":"","StartedAt":"2026-12-06T22:59:04.041610533Z","FinishedAt":"2026-12-06T22:59:08.826780708Z"},"Image":"sha256:9541d230a464a03f644a2b9abc9030a4843dba660d3d5569bbad8bdead270150","ResolvConfPath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/resolv.conf","HostnamePath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/hostname","HostsPath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/hosts","LogPath":"/tmp/peers-dtry.xkUK/data/containers/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9/cbe19bd955bc86ef68d1e0b07f89b8151d56e3225d63e9316ab0f5ceec1016f9-json.log","Name":"/awmg-mcpg","RestartCount":0,"Driver":"vfs","Platform":"linux","MountLabel":"","ProcessLabel":"","AppArmorProfile":"","ExecIDs":null,"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"bridge","PortBindings":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"CgroupnsMode":"host","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"private","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":67108864,"Runtime":"runc","ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"KernelMemory":0,"KernelMemoryTCP":0,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":false,"PidsLimit":null,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"],"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]},"GraphDriver":{"Data":null,"Name":"vfs"},"Mounts":[],"Config":{"Hostname":"cbe19bd955bc","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"8080/tcp":{},"8081/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/busybox","sh","-c","/bin/busybox httpd -p 8080 -h /www && exec /bin/busybox httpd -f -p 8081 -h /www"],"Image":"awf-test-busybox","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}},"NetworkSettings":{"Bridge":"","SandboxID":"2b15fac9e70a0ea3c1e4db3b2c0f5c0048f999debc1bef0716db41f3a0446e46","HairpinMode":false,"LinkLocalIPv6Address":"","LinkLocalIPv6PrefixLen":0,"Ports":{},"SandboxKey":"/tmp/peers-dtry.xkUK/exec/netns/2b15fac9e70a","SecondaryIPAddresses":null,"SecondaryIPv6Addresses":null,"EndpointID":"","Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","MacAddress":"","Networks":{"bridge":{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"dd3c301160f6dbbeee87ffbbe4f0a2b9288d4f6c550f9a9f07dc15554a261011","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"","DriverOpts":null}}}})json";

TEST(ParseInspect, RunningContainer) {
  const ContainerInfo info = parse_inspect(kRunning);
  EXPECT_EQ(info.name, "awmg-mcpg");
  EXPECT_TRUE(info.running);
  EXPECT_EQ(info.status, "running");
  EXPECT_THAT(info.ipv4_addresses, ElementsAre(Pair("bridge", "192.0.2.2")));
  ASSERT_EQ(info.tcp_ports.size(), 2u);
  ASSERT_EQ(info.tcp_ports.at(8080).size(), 1u);
  EXPECT_EQ(info.tcp_ports.at(8080)[0].host_ip, "127.0.0.1");
  EXPECT_EQ(info.tcp_ports.at(8080)[0].host_port, 8080);
  EXPECT_TRUE(info.tcp_ports.at(8081).empty());  // exposed only
}

TEST(ParseInspect, StoppedContainer) {
  const ContainerInfo info = parse_inspect(kStopped);
  EXPECT_FALSE(info.running);
  EXPECT_EQ(info.status, "exited");
  EXPECT_TRUE(info.ipv4_addresses.empty());  // the bridge entry has an empty IPAddress
  EXPECT_EQ(info.tcp_ports.size(), 2u);      // still exposed in Config
}

TEST(ParseInspect, PausedIsNotRunning) {
  const ContainerInfo info = parse_inspect(
      R"({"Name":"/p","State":{"Status":"paused","Running":true,"Paused":true}})");
  EXPECT_FALSE(info.running);
}

TEST(ParseInspect, SeveralNetworksAndBindings) {
  const ContainerInfo info = parse_inspect(R"({
    "Name": "/gw", "State": {"Status": "running", "Running": true},
    "Config": {"ExposedPorts": {"9000/tcp": {}, "53/udp": {}, "7000": {}}},
    "NetworkSettings": {
      "Ports": {"18443/tcp": [{"HostIp": "::", "HostPort": "18443"},
                              {"HostIp": "0.0.0.0", "HostPort": "28443"}],
                "53/udp": [{"HostIp": "", "HostPort": "5353"}]},
      "Networks": {"zeta": {"IPAddress": "10.1.0.5"}, "alpha": {"IPAddress": "172.18.0.3"},
                   "none": {"IPAddress": ""}}}})");
  EXPECT_THAT(info.ipv4_addresses,
              ElementsAre(Pair("alpha", "172.18.0.3"), Pair("zeta", "10.1.0.5")));
  ASSERT_EQ(info.tcp_ports.size(), 3u);  // 7000 (no protocol: TCP), 9000, 18443; not 53/udp
  EXPECT_EQ(info.tcp_ports.at(18443).size(), 2u);
  EXPECT_TRUE(info.tcp_ports.contains(7000));
}

TEST(ParseInspect, RefusesWhatIsNotAContainer) {
  EXPECT_THROW(parse_inspect(""), InspectError);
  EXPECT_THROW(parse_inspect("[]"), InspectError);
  EXPECT_THROW(parse_inspect(R"({"Name":"/x"})"), InspectError);  // no State
  EXPECT_THROW(parse_inspect(R"({"Name":"/x","State":{"Status":"running"}})"), InspectError);
  const std::string base = R"({"Name":"/x","State":{"Status":"running","Running":true},)";
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":[]})"), InspectError);
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":{"Ports":{"80/tcp":{}}}})"),
               InspectError);
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":{"Ports":{"x/tcp":null}}})"),
               InspectError);
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":{"Ports":{"70000/tcp":null}}})"),
               InspectError);
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"","HostPort":"0"}]}}})"),
               InspectError);
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"localhost","HostPort":"80"}]}}})"),
               InspectError);
  EXPECT_THROW(parse_inspect(base + R"("NetworkSettings":{"Networks":{"b":{"IPAddress":"fe80::1"}}}})"),
               InspectError);
}

TEST(PlanPeer, PublishedPortThenContainerAddress) {
  const Peer peer = plan_peer("awmg-mcpg", parse_inspect(kRunning));
  EXPECT_EQ(peer.name, "awmg-mcpg");
  EXPECT_EQ(peer.address, "192.0.2.2");
  ASSERT_EQ(peer.routes.size(), 2u);
  EXPECT_EQ(peer.routes[0].port, 8080);
  EXPECT_EQ(peer.routes[0].target_ip, "127.0.0.1");
  EXPECT_EQ(peer.routes[0].target_port, 8080);
  EXPECT_TRUE(peer.routes[0].published);
  EXPECT_EQ(peer.routes[1].port, 8081);
  EXPECT_EQ(peer.routes[1].target_ip, "192.0.2.2");
  EXPECT_EQ(peer.routes[1].target_port, 8081);
  EXPECT_FALSE(peer.routes[1].published);
  EXPECT_EQ(peer.route(8081), &peer.routes[1]);
  EXPECT_EQ(peer.route(9999), nullptr);
}

TEST(PlanPeer, WildcardBindingsAndFirstNetwork) {
  const Peer peer = plan_peer("gw", parse_inspect(R"({
    "Name": "/gw", "State": {"Status": "running", "Running": true},
    "NetworkSettings": {
      "Ports": {"18443/tcp": [{"HostIp": "::", "HostPort": "18443"},
                              {"HostIp": "0.0.0.0", "HostPort": "28443"}],
                "9000/tcp": [{"HostIp": "::", "HostPort": "9001"}]},
      "Networks": {"zeta": {"IPAddress": "10.1.0.5"}, "alpha": {"IPAddress": "172.18.0.3"}}}})"));
  EXPECT_EQ(peer.address, "172.18.0.3");
  ASSERT_EQ(peer.routes.size(), 2u);
  EXPECT_EQ(peer.routes[0].port, 9000);
  EXPECT_EQ(peer.routes[0].target_ip, "::1");  // only an IPv6 binding
  EXPECT_EQ(peer.routes[0].target_port, 9001);
  EXPECT_EQ(peer.routes[1].target_ip, "127.0.0.1");  // IPv4 preferred
  EXPECT_EQ(peer.routes[1].target_port, 28443);
}

TEST(PlanPeer, RefusesStoppedAndAddresslessContainers) {
  try {
    plan_peer("awmg-mcpg", parse_inspect(kStopped));
    FAIL();
  } catch (const PeerError& error) {
    EXPECT_THAT(error.what(), HasSubstr("not running (status: exited)"));
    EXPECT_THAT(error.what(), HasSubstr("docker start awmg-mcpg"));
  }
  EXPECT_THROW(plan_peer("h", parse_inspect(R"({"Name":"/h","State":{"Status":"running",
      "Running":true},"NetworkSettings":{"Networks":{"host":{"IPAddress":""}}}})")),
               PeerError);
}

TEST(CheckPeers, SameAddressAndTooManyPorts) {
  Peer a{"a", "10.0.0.2", {}};
  Peer b{"b", "10.0.0.2", {}};
  EXPECT_THROW(check_peers({a, b}), PeerError);
  b.address = "10.0.0.3";
  EXPECT_NO_THROW(check_peers({a, b}));
  for (std::uint16_t port = 1; port <= kMaxPeerPorts + 1; ++port) {
    a.routes.push_back({port, "10.0.0.2", port, false});
  }
  EXPECT_THROW(check_peers({a, b}), PeerError);
}

TEST(NameProblem, DockerNamesThatAreHostNames) {
  EXPECT_EQ(name_problem("awmg-mcpg"), "");
  EXPECT_EQ(name_problem("awmg_cli.proxy1"), "");
  EXPECT_NE(name_problem(""), "");
  EXPECT_NE(name_problem("-x"), "");
  EXPECT_NE(name_problem("a/b"), "");
  EXPECT_NE(name_problem("a..b"), "");
  EXPECT_NE(name_problem("a."), "");
  EXPECT_NE(name_problem("x y"), "");
  EXPECT_NE(name_problem("../../containers"), "");
  EXPECT_NE(name_problem(std::string(64, 'a')), "");
  EXPECT_EQ(name_problem(std::string(63, 'a')), "");
}

TEST(DockerSocketPath, UnixOnly) {
  EXPECT_EQ(docker_socket_path("unix:///var/run/docker.sock"), "/var/run/docker.sock");
  EXPECT_EQ(docker_socket_path(kDefaultDockerHost), "/var/run/docker.sock");
  try {
    docker_socket_path("tcp://127.0.0.1:2375");
    FAIL();
  } catch (const PeerError& error) {
    EXPECT_THAT(error.what(), HasSubstr("unix socket only"));
  }
  EXPECT_THROW(docker_socket_path("unix://relative.sock"), PeerError);
  EXPECT_THROW(docker_socket_path("/var/run/docker.sock"), PeerError);
  EXPECT_THROW(docker_socket_path(""), PeerError);
}

TEST(HttpResponse, ContentLengthChunkedAndToTheEnd) {
  auto r = parse_http_response(
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n"
      "{\"message\":\"No such container: nope\"}\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(docker_error_message(r->body), "No such container: nope");
  r = parse_http_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"a\":1}");
  r = parse_http_response("HTTP/1.0 500 Oops\r\n\r\nplain text\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "plain text\n");
  EXPECT_EQ(docker_error_message(r->body), "plain text");
}

TEST(HttpResponse, RefusesTruncatedAndMalformed) {
  EXPECT_FALSE(parse_http_response(""));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\n"));
  EXPECT_FALSE(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n"));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 2000 OK\r\n\r\n"));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nbroken header\r\n\r\n"));
  EXPECT_FALSE(parse_http_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc\r\n0\r\n\r\n"));
  EXPECT_FALSE(parse_http_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"));  // no last chunk
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"));
}

TEST(DockerErrorMessage, ShortAndPrintable) {
  EXPECT_EQ(docker_error_message(std::string(500, 'x')).size(), 200u);
  EXPECT_EQ(docker_error_message("{\"message\":\"a\\u001b[31mb\"}"), "a?[31mb");
}

}  // namespace
}  // namespace awf::peers
