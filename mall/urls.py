from django.urls import path

from mall import views

app_name = "mall"

urlpatterns = [
    path("mall/", views.catalogue_page, name="catalogue"),
    path("mall/p/<int:product_id>/", views.product_page, name="product"),
    path("mall/p/<int:product_id>/redeem/", views.redeem_page, name="redeem"),
    path("mall/orders/<int:order_id>/", views.order_page, name="order"),
    path("mall/orders/<int:order_id>/reveal/", views.code_reveal, name="reveal"),
    path("mall/orders/<int:order_id>/cancel/", views.order_cancel, name="cancel"),
    path("mall/orders/<int:order_id>/address/", views.order_address, name="address"),
    path("me/redemptions/", views.my_redemptions, name="redemptions"),
    path("staff/pickup/", views.staff_pickup, name="pickup"),
]
