// Sender presets: how each real system stops a process by default —
// the first signal, who receives it, how long it waits, and what it sends
// when the wait is over. The facts and their sources are in
// docs/faults-and-senders.md ("Sender presets").
#ifndef LASTCALL_SENDER_H_
#define LASTCALL_SENDER_H_

#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace lastcall {

struct SenderPreset {
  const char* name;
  int signal;
  Recipient to;
  std::vector<int> also;  // sent right after the first signal
  Duration grace;
  int escalation_signal;  // 0: none
  Recipient escalate_to;
  const char* source;  // where the defaults are documented
};

// Every preset, in the order of the sender table of docs/faults-and-senders.md.
const std::vector<SenderPreset>& SenderPresets();

// The preset called `name`, or nullptr.
const SenderPreset* FindSender(const std::string& name);

// Sets the fields of `fault` that the preset defines (and records its name);
// the scenario's own keys are applied afterwards and override them.
void ApplySender(const SenderPreset& preset, Fault* fault);

}  // namespace lastcall

#endif  // LASTCALL_SENDER_H_
