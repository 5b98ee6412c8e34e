"""livesupport: a real-time ticket collaboration server for a support desk."""

__version__ = "0.1.0"
