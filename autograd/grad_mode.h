// Whether ops record a graph. Thread-local, like PyTorch's: a NoGradGuard in one thread does not affect
// another (e.g. a data-loader thread).
#pragma once

namespace engine {

class GradMode {
public:
    static bool is_enabled();
    static void set_enabled(bool enabled);
};

// Disables graph recording for its scope (inference, optimizer steps, metric computation).
class NoGradGuard {
public:
    NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
    ~NoGradGuard() { GradMode::set_enabled(previous_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

class EnableGradGuard {
public:
    EnableGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
    ~EnableGradGuard() { GradMode::set_enabled(previous_); }
    EnableGradGuard(const EnableGradGuard&) = delete;
    EnableGradGuard& operator=(const EnableGradGuard&) = delete;

private:
    bool previous_;
};

}  // namespace engine
