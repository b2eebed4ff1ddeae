"""Seeded, messy sample deliveries of the care-sector partners, with the truth to test against.

from sampledata import generate_sample_deliveries
manifest = generate_sample_deliveries("data/sample", scale=1.0)
"""

from .generate import generate_sample_deliveries

__all__ = ["generate_sample_deliveries"]
