from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "nowrongdoor.oversight"
    label = "oversight"
