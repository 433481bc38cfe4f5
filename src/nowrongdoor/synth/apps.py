from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "nowrongdoor.synth"
    label = "synth"
