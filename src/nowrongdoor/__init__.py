"""NoWrongDoor: one platform for every system that meets a commercially sexually exploited child."""

__version__ = "0.1.0"
