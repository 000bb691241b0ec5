"""Every domain's tables, imported so ``metadata`` is complete (Alembic, tests)."""

from grassroots.affiliate import models as _affiliate  # noqa: F401
from grassroots.catalog import models as _catalog  # noqa: F401
from grassroots.commerce import models as _commerce  # noqa: F401
from grassroots.content import models as _content  # noqa: F401
from grassroots.flow import models as _flow  # noqa: F401
from grassroots.identity import models as _identity  # noqa: F401
from grassroots.kernel import idempotency as _idempotency  # noqa: F401
from grassroots.kernel import models as _kernel  # noqa: F401
from grassroots.kernel.db import Base
from grassroots.ledger import models as _ledger  # noqa: F401
from grassroots.mcn import models as _mcn  # noqa: F401
from grassroots.payments import models as _payments  # noqa: F401
from grassroots.social import models as _social  # noqa: F401

metadata = Base.metadata
