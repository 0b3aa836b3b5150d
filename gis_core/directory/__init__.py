"""Directory (LDAP / Active Directory) sign-in.

- :mod:`gis_core.directory.config`: the settings from ``KENTCBS_LDAP_*`` (off when
  ``KENTCBS_LDAP_URI`` is unset);
- :mod:`gis_core.directory.groups`: the YAML that maps directory groups to
  departments and roles;
- :mod:`gis_core.directory.backend`: the authentication backend (django-auth-ldap)
  that creates users at their first sign-in and makes their memberships follow the
  directory at every sign-in.
"""
