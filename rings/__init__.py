"""Collusion-ring detection on the identity graph, ring scoring and ring reports."""
