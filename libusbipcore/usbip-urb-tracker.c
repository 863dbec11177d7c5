/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UsbipUrbTracker: the direction of each pending CMD_SUBMIT by seqnum, so that a
 * RET_SUBMIT stream can be framed. Bounded: only pending URBs are kept.
 */
#include "config.h"

#include "usbip-urb-tracker.h"
#include "usbip-urb-tracker-private.h"

#define TRACKER_CAP 65536

/* One pending URB. The hash table maps its seqnum to its link in the age queue, so that
 * completing a URB forgets it at once (O(1)) and only pending URBs count toward the cap. */
typedef struct {
  guint32 seqnum;
  UsbipDirection direction;
} TrackedUrb;

struct _UsbipUrbTracker {
  GHashTable *pending; /* seqnum -> GList link in order (data: TrackedUrb) */
  GQueue order;        /* pending URBs, oldest first */
};

static void
tracker_forget (UsbipUrbTracker *self, GList *link)
{
  TrackedUrb *urb = link->data;

  g_hash_table_remove (self->pending, GUINT_TO_POINTER (urb->seqnum));
  g_queue_unlink (&self->order, link);
  g_free (urb);
  g_list_free_1 (link);
}

/* the direction of a pending URB, without forgetting it */
gboolean
usbip_urb_tracker_lookup (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction)
{
  GList *link = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (seqnum));

  if (link == NULL)
    return FALSE;
  if (direction != NULL)
    *direction = ((TrackedUrb *) link->data)->direction;
  return TRUE;
}

/**
 * usbip_urb_tracker_new:
 *
 * Returns: (transfer full): a new, empty tracker
 *
 * Since: 1.0
 */
UsbipUrbTracker *
usbip_urb_tracker_new (void)
{
  UsbipUrbTracker *self = g_new0 (UsbipUrbTracker, 1);

  self->pending = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_queue_init (&self->order);
  return self;
}

/**
 * usbip_urb_tracker_free:
 * @self: (nullable): a tracker
 *
 * Frees @self.
 *
 * Since: 1.0
 */
void
usbip_urb_tracker_free (UsbipUrbTracker *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->pending);
  g_queue_clear_full (&self->order, g_free);
  g_free (self);
}

/**
 * usbip_urb_tracker_add:
 * @self: a tracker
 * @seqnum: the CMD_SUBMIT's seqnum
 * @direction: its direction
 *
 * Remembers a submitted URB's direction until its RET_SUBMIT takes it. Only URBs still
 * pending count toward the cap of 65536: past it, the oldest pending URB is forgotten.
 *
 * Since: 1.0
 */
void
usbip_urb_tracker_add (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection direction)
{
  GList *link = NULL;
  TrackedUrb *urb;

  g_return_if_fail (self != NULL);
  link = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (seqnum));
  if (link != NULL)
    {
      /* a seqnum submitted again: the newer submission is the one a return answers */
      ((TrackedUrb *) link->data)->direction = direction;
      return;
    }
  while (self->order.length >= TRACKER_CAP)
    tracker_forget (self, self->order.head);
  urb = g_new (TrackedUrb, 1);
  urb->seqnum = seqnum;
  urb->direction = direction;
  g_queue_push_tail (&self->order, urb);
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (seqnum), self->order.tail);
}

/**
 * usbip_urb_tracker_take:
 * @self: a tracker
 * @seqnum: a seqnum
 * @direction: (out) (optional): its direction
 *
 * Looks up and forgets a seqnum.
 *
 * Returns: %FALSE if the seqnum is unknown
 *
 * Since: 1.0
 */
gboolean
usbip_urb_tracker_take (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction)
{
  GList *link = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  link = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (seqnum));
  if (link == NULL)
    return FALSE;
  if (direction != NULL)
    *direction = ((TrackedUrb *) link->data)->direction;
  tracker_forget (self, link);
  return TRUE;
}
