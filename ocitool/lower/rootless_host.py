"""``ocitool.lower.rootless_host``: defined in :mod:`ocitool.rootless_host` (outside
``ocitool.lower``, because ``HostInfo.detect()`` uses it on the cache-hit path)."""

from ocitool.rootless_host import INITIAL_UID_MAP as INITIAL_UID_MAP
from ocitool.rootless_host import delegated_cgroup as delegated_cgroup
from ocitool.rootless_host import hierarchies as hierarchies
from ocitool.rootless_host import in_user_namespace as in_user_namespace
from ocitool.rootless_host import is_rootless as is_rootless
from ocitool.rootless_host import own_cgroups as own_cgroups
