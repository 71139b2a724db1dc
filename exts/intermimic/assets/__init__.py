"""Humanoid and object assets (see docs/assets.md)."""

from .usd_convert import register_usd_schema_plugins

register_usd_schema_plugins()
