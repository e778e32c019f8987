"""Every /api/v1/ route, one line each, grouped by app."""

from django.urls import path

from accounts import api as accounts_api
from campaigns import api as campaigns_api
from config.health import health
from levels import api as levels_api
from lottery import api as lottery_api
from mall import api as mall_api
from partners import api as partners_api
from partners import api_portal as partner_portal_api
from points import api as points_api
from referrals import api as referrals_api
from tasks import api as tasks_api

urlpatterns = [
    path("health", health, name="api-health"),
    path("auth/register", accounts_api.RegisterApi.as_view(), name="api-register"),
    path("auth/token", accounts_api.TokenObtainApi.as_view(), name="api-token"),
    path("auth/token/refresh", accounts_api.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/token/revoke", accounts_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("me", accounts_api.MeApi.as_view(), name="api-me"),
    path("me/addresses", accounts_api.AddressListApi.as_view(), name="api-addresses"),
    path("me/addresses/<int:address_id>", accounts_api.AddressDetailApi.as_view(), name="api-address"),
    path("points/balance", points_api.BalanceApi.as_view(), name="api-points-balance"),
    path("campaigns/", campaigns_api.CampaignListApi.as_view(), name="api-campaigns"),
    path("campaigns/<slug:slug>/", campaigns_api.CampaignDetailApi.as_view(), name="api-campaign"),
    path("points/history", points_api.HistoryApi.as_view(), name="api-points-history"),
    path("campaigns/<slug:slug>/checkins", tasks_api.CheckInsApi.as_view(), name="api-checkins"),
    path("campaigns/<slug:slug>/checkins/makeup", tasks_api.MakeupApi.as_view(), name="api-checkin-makeup"),
    path("campaigns/<slug:slug>/tasks", tasks_api.TasksApi.as_view(), name="api-tasks"),
    path("campaigns/<slug:slug>/tasks/<int:task_id>/claim", tasks_api.TaskClaimApi.as_view(), name="api-task-claim"),
    path("events", tasks_api.EventsApi.as_view(), name="api-events"),
    path("partner/sales", partners_api.PartnerSalesApi.as_view(), name="api-partner-sales"),
    path("campaigns/<slug:slug>/wheel", lottery_api.WheelApi.as_view(), name="api-wheel"),
    path("campaigns/<slug:slug>/wheel/spins", lottery_api.SpinsApi.as_view(), name="api-wheel-spins"),
    path("campaigns/<slug:slug>/wheel/fairness", lottery_api.FairnessApi.as_view(), name="api-wheel-fairness"),
    path("me/prizes", lottery_api.MyPrizesApi.as_view(), name="api-my-prizes"),
    path("me/prizes/<int:draw_id>/address", lottery_api.MyPrizeAddressApi.as_view(), name="api-my-prize-address"),
    path("mall/categories", mall_api.CategoriesApi.as_view(), name="api-mall-categories"),
    path("mall/products", mall_api.ProductsApi.as_view(), name="api-mall-products"),
    path("mall/products/<int:product_id>", mall_api.ProductApi.as_view(), name="api-mall-product"),
    path("mall/orders", mall_api.OrdersApi.as_view(), name="api-mall-orders"),
    path("mall/orders/<int:order_id>", mall_api.OrderApi.as_view(), name="api-mall-order"),
    path("mall/orders/<int:order_id>/cancel", mall_api.OrderCancelApi.as_view(), name="api-mall-order-cancel"),
    path("mall/orders/<int:order_id>/reveal-code", mall_api.OrderCodeApi.as_view(), name="api-mall-order-code"),
    path("referrals/me", referrals_api.ReferralMeApi.as_view(), name="api-referrals-me"),
    path("referrals/me/invitees", referrals_api.InviteesApi.as_view(), name="api-referrals-invitees"),
    path("referrals/me/poster.png", referrals_api.PosterApi.as_view(), name="api-referrals-poster"),
    path("campaigns/<slug:slug>/leaderboard", referrals_api.LeaderboardApi.as_view(), name="api-leaderboard"),
    path("me/level", levels_api.MyLevelApi.as_view(), name="api-my-level"),
    path("partner/dashboard", partner_portal_api.DashboardApi.as_view(), name="api-partner-dashboard"),
    path("partner/statements", partner_portal_api.StatementsApi.as_view(), name="api-partner-statements"),
    path("partner/statements/<str:period>", partner_portal_api.StatementApi.as_view(), name="api-partner-statement"),
]
