from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and registry")

    def ready(self) -> None:
        from . import policies  # noqa: F401 - connects the cache-clearing signal receivers
