#ifndef OVERCOMMIT_CXXHASH_SHIM_H
#define OVERCOMMIT_CXXHASH_SHIM_H
#include <stddef.h>
#include <stdint.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
#define XXH_DISPATCH_DISABLE_REPLACE 1
#include <xxhash.h>
#include <xxh_x86dispatch.h>
/// XXH3-64 of a page: the runtime-dispatched (AVX2 when present) variant on x86_64.
static inline uint64_t oc_xxh3_64(const void *p, size_t n) { return XXH3_64bits_dispatch(p, n); }
static inline uint64_t oc_xxh3_64_seeded(const void *p, size_t n, uint64_t s) { return XXH3_64bits_withSeed_dispatch(p, n, s); }
#else
#include <xxhash.h>
static inline uint64_t oc_xxh3_64(const void *p, size_t n) { return XXH3_64bits(p, n); }
static inline uint64_t oc_xxh3_64_seeded(const void *p, size_t n, uint64_t s) { return XXH3_64bits_withSeed(p, n, s); }
#endif
#endif
