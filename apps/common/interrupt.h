// Ctrl-C (SIGINT) and SIGTERM during training: the first one only asks the training loop to stop after the
// current step and save last.safetensors (see Trainer::run); a second one quits at once without saving, which the
// atomic saves make safe (a save cut short leaves PATH.tmp behind, never a partial checkpoint).
#pragma once

#include <memory>

namespace engine::apps {

// Installs the handlers for its lifetime and restores the previous ones after, unless a stop was requested (the
// app is then exiting, and a further signal must still quit at once); clears an earlier request.
class InterruptGuard {
public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    struct Saved;
    std::unique_ptr<Saved> saved_;
};

// The signal that asked to stop (SIGINT or SIGTERM), or 0.
int interrupt_signal();
// "SIGINT", "SIGTERM" (else "a signal").
const char* signal_name(int signal);

}  // namespace engine::apps
