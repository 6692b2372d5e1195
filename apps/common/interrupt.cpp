// The training apps' SIGINT/SIGTERM handler: an atomic flag for the training loop, and a forced exit on a
// second signal.
#include "apps/common/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "apps/common/app_main.h"

namespace engine::apps {

namespace {

// Written by the handler, read by the training loop (any thread may take the signal): a lock-free atomic is
// async-signal-safe where a mutex or stdio would not be.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the interrupt flag must be lock-free");

void on_interrupt(int signal) {
    int expected = 0;
    if (g_signal.compare_exchange_strong(expected, signal)) return;
    // A second signal: the user insists. Only async-signal-safe calls here.
    static const char message[] =
        "\nsecond interrupt: quitting without saving (the last complete checkpoint is kept)\n";
    const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    ::_exit(kExitInterrupted);
}

}  // namespace

struct InterruptGuard::Saved {
    struct sigaction int_action, term_action;
};

InterruptGuard::InterruptGuard() : saved_(std::make_unique<Saved>()) {
    g_signal.store(0);
    struct sigaction action = {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // blocking reads and waits resume; the loop polls the flag after each step
    ::sigaction(SIGINT, &action, &saved_->int_action);
    ::sigaction(SIGTERM, &action, &saved_->term_action);
}

InterruptGuard::~InterruptGuard() {
    // After a request the app is on its way out with kExitInterrupted: a further signal still means "quit now".
    if (g_signal.load() != 0) return;
    ::sigaction(SIGINT, &saved_->int_action, nullptr);
    ::sigaction(SIGTERM, &saved_->term_action, nullptr);
}

int interrupt_signal() { return g_signal.load(); }

const char* signal_name(int signal) {
    switch (signal) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        default: return "a signal";
    }
}

}  // namespace engine::apps
