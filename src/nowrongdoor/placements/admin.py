"""Django admin for the placement directory only (system administrators): resources and
their caregivers, zones and the county's exploitation areas.

Placements, absences, holds, complicity and searches are youth data and deliberately not
registered: they are read and written through ``selectors``/``services`` and ``access``.
"""

from __future__ import annotations

from django.contrib import admin

from nowrongdoor.placements.models import Caregiver, ExploitationArea, Resource, Zone


class CaregiverInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Caregiver
    extra = 0
    fields = ["name", "role", "csec_trained_on", "active"]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A placement resource. Saving it refreshes what matching reads (``updated_at``)."""

    list_display = ["name", "resource_type", "county", "zone", "capacity", "csec_trained", "accepts_holds", "active"]
    list_filter = ["resource_type", "county", "active", "csec_trained", "accepts_holds", "lgbtq_affirming"]
    search_fields = ["name"]
    exclude = ["version"]
    inlines = [CaregiverInline]


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code", "county"]
    list_filter = ["county"]


@admin.register(ExploitationArea)
class ExploitationAreaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Areas the county knows exploiters use: a centre and a radius (kilometres)."""

    list_display = ["name", "county", "radius_km", "active", "updated_at"]
    list_filter = ["county", "active"]
