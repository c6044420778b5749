"""Logging in; choosing the UI language."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from forms.base import Form
from i18n import LANGUAGES


class LoginForm(Form):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)]
    )
    remember = BooleanField(_l("Keep me logged in for 30 days"))


class LanguageForm(Form):
    """The language switch: one submit button per language (name="language")."""

    language = StringField(
        _l("Language"), validators=[AnyOf(list(LANGUAGES), message=_l("Choose English or French."))]
    )
    next = HiddenField()
