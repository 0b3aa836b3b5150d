"""Test users made the way the admin makes them: a user and their department memberships."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client


def member(name: str, department: str | None, role: str = "viewer") -> User:
    """A user with one membership (``role`` in ``department``), or none when it is ``None``."""
    return member_of(name, *([(department, role)] if department else []))


def member_of(name: str, *memberships: tuple[str, str], superuser: bool = False) -> User:
    """A user with several memberships (``(department, role)`` pairs), perhaps a superuser."""
    from gis_core.models import Department, Membership

    user = User.objects.create_user(name, password="x", is_superuser=superuser)
    for department, role in memberships:
        Membership.objects.create(user=user, role=role,
                                  department=Department.objects.get(code=department))
    return user


def signed_in(user: User) -> Client:
    """A test client with ``user`` signed in."""
    client = Client()
    client.force_login(user)
    return client
