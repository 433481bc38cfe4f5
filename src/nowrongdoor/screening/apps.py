from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "nowrongdoor.screening"
    label = "screening"
