"""The script the demo container runs, and the parser for what it prints.

It uses only POSIX sh and tools present both in busybox and on a Debian host
(cat, grep, head, hostname, id, wc), so either rootfs kind can run it. Each
line is ``key=value``; the parser tolerates missing lines (a file a host
lacks), so a missing fact is shown as unknown rather than breaking the demo.
"""

from __future__ import annotations

PROBE_SCRIPT = r"""
echo "hostname=$(hostname)"
echo "id=$(id -u):$(id -g)"
echo "uid_map=$(head -n1 /proc/self/uid_map | tr -s ' ' ' ' | sed 's/^ //')"
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status \
  | sed 's/:[[:space:]]*/=/'
for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max; do
  if [ -r "$f" ]; then echo "memory_limit=$(cat "$f")"; break; fi
done
for p in MASKED; do
  if [ -d "$p" ]; then
    echo "masked:$p=$(ls -A "$p" 2>/dev/null | wc -l) entries"
  elif [ -e "$p" ]; then
    echo "masked:$p=$(cat "$p" 2>/dev/null | wc -c) bytes"
  fi
done
if touch /ocitool-demo-write 2>/dev/null; then echo "root_writable=yes"; else echo "root_writable=no"; fi
"""


def probe_script(masked_paths: list[str]) -> str:
    quoted = " ".join("'" + p.replace("'", "") + "'" for p in masked_paths)
    return PROBE_SCRIPT.replace("MASKED", quoted or "/nonexistent")


def parse_probe(output: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key.strip()] = value.strip()
    return facts
