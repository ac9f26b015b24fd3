"""django-axes under a name staff understand: its admin section was headed "Axes".

In a module of its own: a second AppConfig in accounts/apps.py would stop Django from choosing
AccountsConfig for "accounts" by itself."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    verbose_name = _("Log-in protection")
