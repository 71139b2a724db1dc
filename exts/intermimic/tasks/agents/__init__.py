"""Runner configurations for the InterMimic tasks."""
