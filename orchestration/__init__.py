"""Member Pulse orchestration: Dagster definitions (defs/) over plain, testable code (lib/)."""

import os

# litellm fetches its model cost map from the internet at import unless told not to; set the
# default before anything can import it (shared/reference/install-notes.md section 5).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
