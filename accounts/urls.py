from django.urls import path

from . import second_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/verify/", views.signup_verify, name="signup-verify"),
    path("signup/resend/", views.signup_resend, name="signup-resend"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.password_reset, name="reset"),
    path("password-reset/verify/", views.password_reset_verify, name="reset-verify"),
    path("password-reset/resend/", views.reset_resend, name="reset-resend"),
    path("preferences/", views.preferences, name="preferences"),
    path("inbox/", views.inbox, name="inbox"),
    path("activity/", views.activity, name="activity"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("confirm/", views.confirm_password, name="reauth"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox-read"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox-read-all"),
    path("session/extend/", views.extend_session, name="session-extend"),
    path("second-factor/enrol/", second_factor_views.enrol, name="otp-enrol"),
    path("second-factor/", second_factor_views.verify, name="otp-verify"),
]
