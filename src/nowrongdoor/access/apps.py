from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "nowrongdoor.access"
    label = "access"
