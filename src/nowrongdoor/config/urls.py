from django.contrib import admin
from django.urls import include, path

from nowrongdoor.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("nowrongdoor.web.urls")),
]
