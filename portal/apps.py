from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from accounts.models import Notification
        from accounts.templatetags.inbox_tags import unread_sql

        from . import counter_activity
        from .pagecache import ALL, register_state

        counter_activity.register()
        # Every page's header shows the unread count (accounts' unread_count tag): kept pages match it.
        register_state(ALL, f"({unread_sql(Notification._meta.db_table)})")
