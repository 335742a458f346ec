"""Classbook: runs a children's activity business (classes, enrollment, billing, portal)."""
