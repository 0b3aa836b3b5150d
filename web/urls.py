from django.contrib.auth import views as auth_views
from django.urls import path

from web import views, views_map

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="web/login.html"),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("map/", views_map.map_page, name="map"),
    path("map/building/<int:pk>.json", views_map.building_json, name="building"),
    path("map/search.json", views_map.search_json, name="search"),
]
