"""Cases as every page and the API see them (办件): who may see a case, who may start what, and
the clerk's words for a step that was refused. Shared by ``app.web`` and ``app.api``, which do
not import each other."""
