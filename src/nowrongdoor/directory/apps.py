from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "nowrongdoor.directory"
    label = "directory"
    verbose_name = "Directory"
