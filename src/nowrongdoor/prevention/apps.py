from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "nowrongdoor.prevention"
    label = "prevention"
