"""``python -m app.procedures.batch.generate OUT_DIR --persons N``: see the package's docstring."""
import sys

from app.procedures.batch.generate import main

sys.exit(main())
