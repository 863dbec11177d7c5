/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbip-tool's executable: answers the version itself, attaches in the plain case
 * (usbip-tool-quick.h), and loads the module with every other command line (usbip-tool-main.h
 * says why). Links libc alone: no GLib here.
 */
#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usbip-tool-main.h"
#include "usbip-tool-quick.h"

/* USBIP_TOOL_MODULE_DIR if set; else next to this executable when the module is there (a
 * build tree: meson puts both in one directory); else where the package installs it */
static void
module_path (char *path, size_t size)
{
  const char *dir = getenv ("USBIP_TOOL_MODULE_DIR");
  char exe[PATH_MAX];
  ssize_t n;

  if (dir != NULL && *dir != '\0')
    {
      snprintf (path, size, "%s/%s", dir, USBIP_TOOL_MAIN_MODULE);
      return;
    }
  n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0)
    {
      exe[n] = '\0';
      char *slash = strrchr (exe, '/');
      if (slash != NULL)
        {
          *slash = '\0';
          snprintf (path, size, "%s/%s", exe, USBIP_TOOL_MAIN_MODULE);
          if (access (path, R_OK) == 0)
            return;
        }
    }
  snprintf (path, size, "%s/%s", USBIP_TOOL_MODULEDIR, USBIP_TOOL_MAIN_MODULE);
}

int
main (int argc, char **argv)
{
  char path[PATH_MAX + sizeof USBIP_TOOL_MAIN_MODULE + 1];
  void *module;
  UsbipToolMainFunc run;
  int rc;

  if (argc == 2
      && (strcmp (argv[1], "version") == 0 || strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0))
    return fputs (USBIP_TOOL_VERSION_LINE, stdout) < 0 || fflush (stdout) != 0 ? 1 : 0;
  /* a plain attach as root: done here, without the module (usbip-tool-quick.h) */
  if (argc > 1 && (rc = usbip_tool_quick_attach (argc, argv)) != USBIP_TOOL_QUICK_NOT_HANDLED)
    return rc;
  module_path (path, sizeof path);
  /* global: the `status` module calls back into this one's output helpers */
  module = dlopen (path, RTLD_LAZY | RTLD_GLOBAL);
  run = module != NULL ? (UsbipToolMainFunc) dlsym (module, "usbip_tool_main") : NULL;
  if (run == NULL)
    {
      fprintf (stderr,
               "usbip-tool: error: its module %s cannot be loaded (%s): reinstall usbip-tool's package, "
               "or set USBIP_TOOL_MODULE_DIR to the directory that holds it\n",
               path, dlerror ());
      if (module != NULL)
        dlclose (module);
      return 1;
    }
  /* the module stays loaded until the process exits: threads GLib starts run its code */
  /* cppcheck-suppress resourceLeak ; never closed on purpose (above) */
  return run (argc, argv);
}
