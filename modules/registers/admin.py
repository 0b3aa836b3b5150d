"""Admin registrations of the registers module (one file per part of the module)."""

from modules.registers import admin_licences  # noqa: F401
