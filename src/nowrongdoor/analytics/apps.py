from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "nowrongdoor.analytics"
    label = "analytics"
