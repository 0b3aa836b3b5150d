"""The layer registry: one declarative data standard per CBS layer."""
