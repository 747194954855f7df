#ifndef SPDY_CPU_H
#define SPDY_CPU_H

/// The spin-wait hint (`pause` on x86_64): lets the sibling hyperthread run and saves power
/// while a worker thread polls for its next job.
static inline void spdy_cpu_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

#endif
