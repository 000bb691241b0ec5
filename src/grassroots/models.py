"""Every domain's tables, imported so ``metadata`` is complete (Alembic, tests)."""

from grassroots.identity import models as _identity  # noqa: F401
from grassroots.kernel import models as _kernel  # noqa: F401
from grassroots.kernel.db import Base

metadata = Base.metadata
