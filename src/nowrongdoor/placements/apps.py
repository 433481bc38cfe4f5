from django.apps import AppConfig


class PlacementsConfig(AppConfig):
    name = "nowrongdoor.placements"
    label = "placements"
