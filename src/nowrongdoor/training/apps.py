from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "nowrongdoor.training"
    label = "training"
