/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <polkit/polkit.h>
#include <usbipcore.h>

#include "usbip-dbus-authority.h"

struct _UsbipDbusAuthority {
  GObject parent_instance;
  PolkitAuthority *authority; /* NULL until the first check */
};

G_DEFINE_FINAL_TYPE (UsbipDbusAuthority, usbip_dbus_authority, G_TYPE_OBJECT)

typedef struct {
  gchar *sender;
  gchar *action_id;
  PolkitDetails *details;
  PolkitCheckAuthorizationFlags flags;
} Check;

static void
check_free (Check *c)
{
  g_free (c->sender);
  g_free (c->action_id);
  g_clear_object (&c->details);
  g_free (c);
}

/* what the action lets a user do, for messages */
static const gchar *
action_text (const gchar *action_id)
{
  return g_str_equal (action_id, USBIP_DBUS_ACTION_BIND) ? "export this machine's USB devices (bind/unbind)"
                                                         : "attach and detach remote USB devices";
}

static void
checked (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (GTask) task = data;
  Check *c = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) result =
      polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);

  if (result == NULL)
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                             "cannot ask polkit whether you may %s: %s (is polkitd installed and running?)",
                             action_text (c->action_id), error->message);
  else if (polkit_authorization_result_get_is_authorized (result))
    g_task_return_boolean (task, TRUE);
  else if (polkit_authorization_result_get_is_challenge (result))
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                             "not authorized to %s without authenticating (polkit action %s): run it in a desktop "
                             "session or a terminal with a polkit agent (pkttyagent), or ask an administrator for "
                             "a polkit rule (docs/desktop.md)",
                             action_text (c->action_id), c->action_id);
  else
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                             "not authorized to %s (polkit action %s): ask an administrator for a polkit rule that "
                             "allows it (docs/desktop.md), or run as root",
                             action_text (c->action_id), c->action_id);
}

static void
ask (UsbipDbusAuthority *self, GTask *task)
{
  Check *c = g_task_get_task_data (task);
  g_autoptr (PolkitSubject) subject = polkit_system_bus_name_new (c->sender);

  polkit_authority_check_authorization (self->authority, subject, c->action_id, c->details, c->flags, NULL, checked,
                                        task);
}

static void
got_authority (GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  UsbipDbusAuthority *self = g_task_get_source_object (task);
  Check *c = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PolkitAuthority *authority = polkit_authority_get_finish (res, &error);

  if (authority == NULL)
    {
      g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                               "cannot ask polkit whether you may %s: %s (is polkitd installed and running?)",
                               action_text (c->action_id), error->message);
      g_object_unref (task);
      return;
    }
  if (self->authority == NULL)
    self->authority = authority;
  else
    g_object_unref (authority);
  ask (self, task);
}

void
usbip_dbus_authority_check_async (UsbipDbusAuthority *self, GDBusMethodInvocation *invocation, const gchar *action_id,
                                  const gchar *const *details, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  Check *c = g_new0 (Check, 1);
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);

  g_task_set_source_tag (task, usbip_dbus_authority_check_async);
  c->sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  c->action_id = g_strdup (action_id);
  c->details = polkit_details_new ();
  for (guint i = 0; details != NULL && details[i] != NULL && details[i + 1] != NULL; i += 2)
    polkit_details_insert (c->details, details[i], details[i + 1]);
  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    c->flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
  g_task_set_task_data (task, c, (GDestroyNotify) check_free);
  if (self->authority == NULL)
    polkit_authority_get_async (NULL, got_authority, task);
  else
    ask (self, task);
}

gboolean
usbip_dbus_authority_check_finish (UsbipDbusAuthority *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
usbip_dbus_authority_finalize (GObject *object)
{
  g_clear_object (&USBIP_DBUS_AUTHORITY (object)->authority);
  G_OBJECT_CLASS (usbip_dbus_authority_parent_class)->finalize (object);
}

static void
usbip_dbus_authority_class_init (UsbipDbusAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_dbus_authority_finalize;
}

static void
usbip_dbus_authority_init (UsbipDbusAuthority *self)
{
}

UsbipDbusAuthority *
usbip_dbus_authority_new (void)
{
  return g_object_new (USBIP_TYPE_DBUS_AUTHORITY, NULL);
}
