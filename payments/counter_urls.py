"""Counter URLs of payments, included into the "counter" namespace by portal/counter_urls.py."""

from django.urls import path

from . import counter

urlpatterns = [
    path("person/<int:pk>/premium/", counter.premium_pay, name="premium-pay"),
    path("person/<int:pk>/premium/<int:payment>/", counter.premium_receipt, name="premium-receipt"),
    path("person/<int:pk>/voucher/", counter.voucher, name="voucher"),
]
