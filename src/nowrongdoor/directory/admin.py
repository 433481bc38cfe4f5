"""Django admin for the directory only (system administrators).

Youth data, consents and the audit log are deliberately not registered: the admin would
be a second way in that bypasses ``access`` (ARCHITECTURE.md rule 1).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from nowrongdoor.directory.models import Agency, County, ProviderProfile, User


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "state", "fips_code"]
    search_fields = ["name"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "agency_type", "county"]
    list_filter = ["agency_type", "county"]
    search_fields = ["name"]


@admin.register(User)
class StaffAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "first_name", "last_name", "agency", "role", "is_active"]
    list_filter = ["role", "agency__agency_type", "is_active", "is_service_account"]
    fieldsets = (*UserAdmin.fieldsets, ("Agency and role", {"fields": ("agency", "role", "supervisor")}))  # type: ignore[misc]


@admin.register(ProviderProfile)
class ProviderProfileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Provider directory: services, populations, languages, CSEC specialisation and the
    current openings the referral form shows."""

    list_display = ["agency", "csec_specialised", "capacity", "openings", "updated_at"]
    list_filter = ["csec_specialised", "agency__county"]
    search_fields = ["agency__name"]
