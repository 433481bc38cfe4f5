from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "nowrongdoor.identity"
    label = "identity"
