"""Logging in; choosing the UI language."""

from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from catalog import lazy_gettext as _l
from forms.base import Form
from i18n import LANGUAGES
from services.accounts import normalize_email


class LoginForm(Form):
    EMAIL_MAX = 254

    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=EMAIL_MAX)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)]
    )
    remember = BooleanField(_l("Keep me logged in for 30 days"))

    @classmethod
    def email_typed(cls) -> str:
        """The posted email as accounts compare it, capped: valid form or not.

        The per-account login throttle keys on it before the view validates
        anything (a wrong or missing password still counts against that email).
        """
        email = cls(meta={"csrf": False}).email.data  # a JSON body may post a number
        return normalize_email(str(email or ""))[: cls.EMAIL_MAX]


class LanguageForm(Form):
    """The language switch: one submit button per language (name="language")."""

    language = StringField(
        _l("Language"), validators=[AnyOf(list(LANGUAGES), message=_l("Choose English or French."))]
    )
    next = HiddenField()
