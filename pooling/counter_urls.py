from django.urls import path

from . import counter_views

urlpatterns = [
    path("person/<int:pk>/pooling/add/", counter_views.propose, name="pooling-propose"),
    path("person/<int:pk>/pooling/<int:binding_pk>/consent/", counter_views.record_consent, name="pooling-consent"),
    path("person/<int:pk>/pooling/<int:binding_pk>/end/", counter_views.unbind, name="pooling-unbind"),
]
