"""Spatially aware IT modules (helpdesk, netops, registers), each a Django app."""
