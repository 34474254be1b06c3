"""Small pieces every layer shares (公共): China's clock, masking of personal numbers,
the bilingual error base. Imports nothing of the rest of ``app``."""
