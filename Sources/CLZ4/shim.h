#ifndef OVERCOMMIT_CLZ4_SHIM_H
#define OVERCOMMIT_CLZ4_SHIM_H
#include <lz4.h>
#endif
