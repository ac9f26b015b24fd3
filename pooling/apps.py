from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolingConfig(AppConfig):
    name = "pooling"
    verbose_name = _("Family pooling")

    def ready(self) -> None:
        from accounts.activity import register_audit_scope
        from accounts.policy_changes import register_impact
        from accounts.registry import on_person_changed
        from portal.celery import add_schedule, crontab
        from portal.context_processors import NAV_LINKS
        from portal.counter import register_person_section
        from portal.dashboard import register_section
        from portal.pagecache import register_state

        from . import changes, dashboard, lifecycle, proposals, record
        from .policy_impact import binding_impacts

        on_person_changed(_registry_listener)
        register_impact(binding_impacts)
        register_audit_scope(record.binding_scope)
        record.register_details()
        add_schedule("pooling-expire-requests", "pooling.tasks.expire_pending_bindings_task", 300.0)
        add_schedule("pooling-remind-requests", "pooling.tasks.remind_pending_bindings_task", 3600.0)
        add_schedule("pooling-end-dates", "pooling.tasks.end_dates_task", crontab(hour=1, minute=5))
        add_schedule("pooling-minors-confirm", "pooling.tasks.ask_minors_to_confirm_task", crontab(hour=2, minute=5))
        add_schedule("pooling-minors-deadline", "pooling.tasks.minor_confirmation_deadlines_task",
                     crontab(hour=2, minute=20))
        for name, label in (
            ("pooling:checker", _("Who can I add?")),
            ("pooling:guides", _("Guides")),
            ("pooling:faq", _("Questions")),
        ):
            if (name, label) not in NAV_LINKS and all(n != name for n, _l in NAV_LINKS):
                NAV_LINKS.append((name, label))
        register_section("pooling/_holder_section.html", dashboard.holder_section, order=20)
        register_section("pooling/_beneficiary_section.html", dashboard.beneficiary_section, order=30)
        register_person_section("counter/pooling_section.html", dashboard.counter_section)
        for sql in dashboard.dashboard_state():
            register_state("dashboard", sql)
        del changes, lifecycle, proposals


def _registry_listener(change, actor, channel):  # type: ignore[no-untyped-def]
    from .lifecycle import handle_person_change

    handle_person_change(change.person, change.before, change.after, actor, channel)
