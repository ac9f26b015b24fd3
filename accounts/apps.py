from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and registry")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import policies  # noqa: F401 - connects the cache-clearing signal receivers

        if self.apps is not None and self.apps.is_installed("django.contrib.admin"):
            from . import household_admin  # noqa: F401 - registers the household admin (kept out of admin.py)

        from .activity import record_sign_in

        user_logged_in.connect(record_sign_in, dispatch_uid="accounts.record_sign_in")
