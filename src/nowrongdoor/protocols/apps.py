from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "nowrongdoor.protocols"
    label = "protocols"

    def ready(self) -> None:
        from nowrongdoor.protocols import services

        services.connect()
