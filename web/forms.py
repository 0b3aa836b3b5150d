"""Forms of the web viewer."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from gis_core import signin


class SignInForm(AuthenticationForm):
    """Django's sign-in form, saying why a sign-in was refused.

    A backend that knows more than "no" notes it on the request
    (:func:`gis_core.signin.note_problem`): the directory tells a disabled account, a
    user in no mapped group and an unreachable server apart from a wrong password.
    """

    def get_invalid_login_error(self) -> ValidationError:
        problem = signin.signin_problem(self.request) or signin.BAD_CREDENTIALS
        return ValidationError(signin.problem_message(problem), code=problem)
