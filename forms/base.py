"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is
required.", the CSRF ones) read from a catalog loaded once per language and process.

Flask-WTF loads that catalog (a .mo file) again on every request that builds a form,
about 0.6 ms: most of a save's answer is otherwise rendering and a few statements.
"""

from __future__ import annotations

import functools

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_catalog(str(get_locale() or "en"))


@functools.lru_cache(maxsize=8)
def wtforms_catalog(locale: str) -> support.Translations:
    """WTForms' messages in `locale` (an immutable catalog, shared by every request)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")
