/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer driver: one program per target, the entry function chosen at build time with
 * -DUSBIP_FUZZ_ENTRY=usbip_fuzz_<target>.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-targets.h"

#ifndef USBIP_FUZZ_ENTRY
#error "build with -DUSBIP_FUZZ_ENTRY=usbip_fuzz_<target>"
#endif

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* GLib ends a fatal message with SIGTRAP, which libFuzzer does not handle: turn it into
 * the SIGABRT it reports and keeps the input of */
static void
trap_to_abort (int sig)
{
  abort ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* a critical or warning from GLib is a bug worth a crash report */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  signal (SIGTRAP, trap_to_abort);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  USBIP_FUZZ_ENTRY (data, size);
  return 0;
}
