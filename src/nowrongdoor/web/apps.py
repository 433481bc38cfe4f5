from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "nowrongdoor.web"
    label = "web"
