from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from accounts.models import Notification

        from . import counter_activity
        from .pagecache import ALL, register_state

        counter_activity.register()
        # Every page's header shows the unread count (accounts' unread_count tag): kept pages match it.
        table = Notification._meta.db_table
        register_state(ALL, f"(SELECT COUNT(*) FROM {table} WHERE person_id = %s AND read_at IS NULL AND kind <> 'one_time_code')")  # noqa: E501, S608
