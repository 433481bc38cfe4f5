from django.apps import AppConfig


class JurisdictionConfig(AppConfig):
    name = "nowrongdoor.jurisdiction"
    label = "jurisdiction"
