"""reminder: deadline reminders for Chinese government task-division plans."""

__version__ = "0.1.0"
