from django.urls import path

from . import record, views

app_name = "pooling"

urlpatterns = [
    path("add/", views.propose, name="propose"),
    path("add/premium-only/", views.premium_only, name="premium-only"),
    path("relative/<int:pk>/", views.binding_detail, name="binding"),
    path("relative/<int:pk>/limits/", views.limits, name="limits"),
    path("relative/<int:pk>/end-date/", views.end_date, name="end-date"),
    path("relative/<int:pk>/pause/", views.pause, name="pause"),
    path("relative/<int:pk>/resume/", views.resume, name="resume"),
    path("relative/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("relative/<int:pk>/end/", views.unbind, name="unbind"),
    path("pause-all/", views.pause_all, name="pause-all"),
    path("resume-all/", views.resume_all, name="resume-all"),
    path("undo/<int:pk>/", views.undo, name="undo"),
    path("request/<int:pk>/", views.answer, name="answer"),
    path("answer/", views.answer_with_code, name="answer-code"),
    path("answer/<str:token>/", views.consent_link, name="consent-link"),
    path("order/", views.order, name="order"),
    path("check/", views.checker, name="checker"),
    path("guides/", views.guides, name="guides"),
    path("guides/<slug:channel>/", views.guide, name="guide"),
    path("guides/premium/<slug:channel>/", views.guide, {"purpose": "premium"}, name="premium-guide"),
    path("how-to/", views.how_to, name="how-to"),
    path("questions/", views.faq, name="faq"),
    path("record/", record.record_view, name="record"),
]
