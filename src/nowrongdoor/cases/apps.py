from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "nowrongdoor.cases"
    label = "cases"
