from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("voucher/", views.voucher, name="voucher"),
    path("voucher/extend/", views.voucher_extend, name="voucher-extend"),
    path("voucher/<int:pk>/qr.svg", views.voucher_qr, name="voucher-qr"),
    path("spending/", views.spending, name="spending"),
    path("my-payments/", views.my_payments, name="my-payments"),
    path("premiums/", views.premium_list, name="premiums"),
    path("premiums/pay/", views.premium_pay, name="premium-pay"),
    path("premiums/<int:pk>/", views.premium_receipt, name="premium-receipt"),
]
