from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and registry")

    def ready(self) -> None:
        from . import policies  # noqa: F401 - connects the cache-clearing signal receivers

        if self.apps is not None and self.apps.is_installed("django.contrib.admin"):
            from . import household_admin  # noqa: F401 - registers the household admin (kept out of admin.py)
