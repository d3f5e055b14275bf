"""Test settings for a replacement worker that takes over stale claims within seconds, not minutes.

Production keeps the task timeout at 5 min and the claim lease at 7; the kill test cannot wait that
long, so its second cluster runs the same code with the same order of limits (timeout < retry <
claim lease), scaled down.
"""

from tests.settings import *  # noqa: F403

Q_CLUSTER = {**Q_CLUSTER, "timeout": 3, "retry": 5}  # noqa: F405
DUALWRITE = {**DUALWRITE, "CLAIM_SECONDS": 4}  # noqa: F405
