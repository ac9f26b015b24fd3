from django.urls import path

from . import counter_views

urlpatterns = [
    path("person/<int:pk>/pooling/add/", counter_views.propose, name="pooling-propose"),
    path("person/<int:pk>/pooling/order/", counter_views.order, name="pooling-order"),
    path("person/<int:pk>/pooling/undo/", counter_views.undo, name="pooling-undo"),
    path("person/<int:pk>/pooling/<int:binding_pk>/consent/", counter_views.record_consent, name="pooling-consent"),
    path("person/<int:pk>/pooling/<int:binding_pk>/end/", counter_views.unbind, name="pooling-unbind"),
    path("person/<int:pk>/pooling/<int:binding_pk>/limits/", counter_views.limits, name="pooling-limits"),
    path("person/<int:pk>/pooling/<int:binding_pk>/end-date/", counter_views.end_date, name="pooling-end-date"),
    path("person/<int:pk>/pooling/<int:binding_pk>/pause/", counter_views.pause_or_resume, {"what": "pause"},
         name="pooling-pause"),
    path("person/<int:pk>/pooling/<int:binding_pk>/resume/", counter_views.pause_or_resume, {"what": "resume"},
         name="pooling-resume"),
]
