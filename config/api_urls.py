"""Every /api/v1/ route, one line each, grouped by app."""

from django.urls import path

from accounts import api as accounts_api
from points import api as points_api

urlpatterns = [
    path("auth/register", accounts_api.RegisterApi.as_view(), name="api-register"),
    path("auth/token", accounts_api.TokenObtainApi.as_view(), name="api-token"),
    path("auth/token/refresh", accounts_api.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/token/revoke", accounts_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("me", accounts_api.MeApi.as_view(), name="api-me"),
    path("me/addresses", accounts_api.AddressListApi.as_view(), name="api-addresses"),
    path("me/addresses/<int:address_id>", accounts_api.AddressDetailApi.as_view(), name="api-address"),
    path("points/balance", points_api.BalanceApi.as_view(), name="api-points-balance"),
    path("points/history", points_api.HistoryApi.as_view(), name="api-points-history"),
]
