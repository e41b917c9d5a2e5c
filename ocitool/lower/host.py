"""``ocitool.lower.host``: the host facts lowering reads; defined in :mod:`ocitool.host`."""

from ocitool.host import CGROUP_ROOT as CGROUP_ROOT
from ocitool.host import HostInfo as HostInfo
from ocitool.host import normalize_arch as normalize_arch
