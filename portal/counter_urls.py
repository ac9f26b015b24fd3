from importlib import import_module

from django.urls import path

from . import counter

app_name = "counter"

urlpatterns = [
    path("", counter.home, name="home"),
    path("person/<int:pk>/", counter.person_page, name="person"),
    path("person/<int:pk>/receipt/<int:action>/", counter.receipt, name="receipt"),
    path("person/<int:pk>/phone/", counter.change_phone, name="phone"),
    path("person/<int:pk>/signup/", counter.signup_help, name="signup"),
]

for _app in ("pooling", "payments"):
    try:
        urlpatterns += import_module(f"{_app}.counter_urls").urlpatterns
    except ModuleNotFoundError:
        pass
