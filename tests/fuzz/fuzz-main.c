/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer driver: one program per target, the entry function chosen at build time with
 * -DUSBIP_FUZZ_ENTRY=usbip_fuzz_<target>.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz-targets.h"

#ifndef USBIP_FUZZ_ENTRY
#error "build with -DUSBIP_FUZZ_ENTRY=usbip_fuzz_<target>"
#endif

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* a critical or warning from GLib is a bug worth a crash report */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  USBIP_FUZZ_ENTRY (data, size);
  return 0;
}
