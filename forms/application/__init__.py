"""Task forms of the application family 申领 (``processes/application/``): the application form
(申领表), the shared checks' forms, instant issuance's and the outlet's. Keys are namespaced
``application.<name>``; the bare keys of the first deployed versions stay as aliases, so cases
running on those versions keep working."""
from forms.application import apply, instant_issuance, outlet  # noqa: F401  (registers them)
from forms.application.apply import ApplicationForm  # noqa: F401
