"""Helpdesk (arıza / talep): faults and requests on assets, rooms and buildings."""
