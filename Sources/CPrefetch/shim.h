#ifndef OVERCOMMIT_CPREFETCH_SHIM_H
#define OVERCOMMIT_CPREFETCH_SHIM_H
/// Starts loading the cache line holding `p` for a coming read (the CPU's prefetch
/// instruction; no architectural effect, never faults).
static inline void oc_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
/// The same for a coming write.
static inline void oc_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }
#endif
