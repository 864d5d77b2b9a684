#include "scenario/sender.h"

#include <csignal>

namespace lastcall {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<SenderPreset>& SenderPresets() {
  // Docker, Kubernetes, ECS and Cloud Run signal the container's PID 1 only;
  // when the grace runs out the whole container dies (SIGKILL to PID 1 of a
  // PID namespace kills every process in it), hence KILL to all.
  static const std::vector<SenderPreset> kPresets = {
      {"kubernetes",
       SIGTERM,
       Recipient::kProcess,
       {},
       seconds(30),
       SIGKILL,
       Recipient::kAll,
       "kubernetes.io/docs/concepts/workloads/pods/pod-termination/ "
       "(terminationGracePeriodSeconds: 30)"},
      {"docker",
       SIGTERM,
       Recipient::kProcess,
       {},
       seconds(10),
       SIGKILL,
       Recipient::kAll,
       "docs.docker.com/reference/cli/docker/container/stop/ (10 s on Linux)"},
      {"docker-compose",
       SIGTERM,
       Recipient::kProcess,
       {},
       seconds(10),
       SIGKILL,
       Recipient::kAll,
       "docs.docker.com/reference/compose-file/services/#stop_grace_period "
       "(10 s)"},
      {"systemd",
       SIGTERM,
       Recipient::kAll,
       {SIGCONT},
       seconds(90),
       SIGKILL,
       Recipient::kAll,
       "systemd.kill(5) KillMode=control-group, KillSignal=SIGTERM then SIGCONT; "
       "systemd-system.conf(5) DefaultTimeoutStopSec=90s"},
      {"pm2",
       SIGINT,
       Recipient::kTree,
       {},
       milliseconds(1600),
       SIGKILL,
       Recipient::kTree,
       "pm2 constants.js KILL_SIGNAL=SIGINT, KILL_TIMEOUT=1600; "
       "lib/God/Methods.js treekill"},
      {"supervisord",
       SIGTERM,
       Recipient::kProcess,
       {},
       seconds(10),
       SIGKILL,
       Recipient::kProcess,
       "supervisord.org/configuration.html (stopsignal=TERM, stopwaitsecs=10, "
       "stopasgroup=false, killasgroup=false)"},
      {"heroku",
       SIGTERM,
       Recipient::kAll,
       {},
       seconds(30),
       SIGKILL,
       Recipient::kAll,
       "devcenter.heroku.com/articles/dyno-shutdown-behavior (all processes, "
       "30 s)"},
      {"ecs",
       SIGTERM,
       Recipient::kProcess,
       {},
       seconds(30),
       SIGKILL,
       Recipient::kAll,
       "AWS ECS StopTask / ContainerDefinition.stopTimeout (docker stop, 30 s)"},
      {"nomad",
       SIGINT,
       Recipient::kProcess,
       {},
       seconds(5),
       SIGKILL,
       Recipient::kProcess,
       "developer.hashicorp.com/nomad/docs/job-specification/task "
       "(kill_signal SIGINT, kill_timeout 5s)"},
      {"cloud-run",
       SIGTERM,
       Recipient::kProcess,
       {},
       seconds(10),
       SIGKILL,
       Recipient::kAll,
       "cloud.google.com/run/docs/container-contract#lifecycle (10 s)"},
      // A terminal sends SIGINT to the foreground process group and nothing
      // after it; `grace` is then only how long lastcall waits for the exit.
      {"ctrl-c",
       SIGINT,
       Recipient::kGroup,
       {},
       seconds(30),
       0,
       Recipient::kGroup,
       "GNU libc manual 17.4.9.2 (INTR: SIGINT to the foreground job)"},
  };
  return kPresets;
}

const SenderPreset* FindSender(const std::string& name) {
  for (const SenderPreset& preset : SenderPresets())
    if (name == preset.name) return &preset;
  return nullptr;
}

void ApplySender(const SenderPreset& preset, Fault* fault) {
  fault->sender = preset.name;
  fault->signal = preset.signal;
  fault->to = preset.to;
  fault->also = preset.also;
  fault->grace = preset.grace;
  fault->escalation_signal = preset.escalation_signal;
  fault->escalate_to = preset.escalate_to;
}

}  // namespace lastcall
