"""The forms' bilingual texts and locale: ``app.common.i18n`` (shared with the domain's
status labels, which must not import ``forms``)."""
from app.common.i18n import (DEFAULT_LOCALE, LOCALES, T, current_locale, get_locale,  # noqa: F401
                             normalise_locale, pick, set_locale, to_text)
