"""Converters from other motion formats to InterMimic clips, and contact labelling."""
