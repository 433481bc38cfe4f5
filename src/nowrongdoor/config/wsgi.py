import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nowrongdoor.config.settings")
application = get_wsgi_application()
# Move everything loaded so far (Django, the app, its content files) out of the garbage
# collector's view: full collections then walk only per-request objects, which keeps
# the slowest requests (a placement search building thousands of candidates) near the
# median. Measured in benchmarks/placement_match.py (--gc-freeze).
gc.collect()
gc.freeze()
