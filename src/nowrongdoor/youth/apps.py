from django.apps import AppConfig


class YouthConfig(AppConfig):
    name = "nowrongdoor.youth"
    label = "youth"
