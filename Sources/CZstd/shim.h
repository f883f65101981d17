#ifndef OVERCOMMIT_CZSTD_SHIM_H
#define OVERCOMMIT_CZSTD_SHIM_H
#include <zstd.h>
#endif
