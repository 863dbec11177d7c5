/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* placeholder: the exporter helper owns this header */
#include <gio/gio.h>
#include "usbip-common.h"
