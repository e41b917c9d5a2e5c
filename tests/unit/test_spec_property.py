"""Property: any mix of valid ``ocitool spec`` flags on any profile gives a schema-valid config,
and applying the same flags twice changes nothing more (flags are idempotent)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.capabilities import CAPABILITIES
from ocitool.spec import customize as cz
from ocitool.spec.load import parse_text
from ocitool.spec.profiles import PROFILES, ProfileParams, build_profile
from ocitool.spec.schema import validate_config

POLICY = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
          "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}  # fmt: skip

words = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8)
paths = st.builds(lambda parts: "/" + "/".join(parts), st.lists(st.sampled_from(["a", "b", "srv", "tmp", "data"]), min_size=1, max_size=3))  # fmt: skip
caps = st.lists(st.sampled_from(CAPABILITIES), max_size=4)


@st.composite
def options(draw: st.DrawFn) -> cz.SpecOptions:
    opts = cz.SpecOptions()
    opts.args = draw(st.none() | st.lists(words, min_size=1, max_size=3))
    opts.env = draw(st.lists(st.tuples(st.sampled_from(["A", "PATH", "TERM", "X_Y"]), words), max_size=3))  # fmt: skip
    opts.cwd = draw(st.none() | paths)
    opts.user = draw(st.none() | st.tuples(st.integers(0, 65535), st.none() | st.integers(0, 65535)))  # fmt: skip
    opts.hostname = draw(st.none() | st.sampled_from(["box", "a-b.example", "x1"]))
    opts.terminal = draw(st.none() | st.booleans())
    if draw(st.booleans()):
        text = draw(st.sampled_from(["=", "cap_chown=ep", "all=ep cap_sys_admin-ep", "chown+p kill+i"]))  # fmt: skip
        from ocitool.captext import parse_captext

        opts.caps = parse_captext(text).to_oci()
    opts.cap_add = draw(caps)
    opts.cap_drop = draw(caps)
    opts.memory = draw(st.none() | st.integers(1, 4096).map(lambda m: m * 1024 * 1024))
    opts.cpus = draw(st.none() | st.integers(1000, 6_400_000).map(lambda q: (q, 100_000)))
    opts.pids_limit = draw(st.none() | st.integers(1, 100_000))
    opts.mounts = draw(st.lists(st.one_of(
        paths.map(lambda p: cz.parse_bind(f"/host{p}:{p}:ro")),
        paths.map(lambda p: cz.parse_tmpfs(p)),
    ), max_size=3))  # fmt: skip
    opts.net = draw(st.none() | st.sampled_from(["host", "none"]))
    opts.readonly = draw(st.none() | st.booleans())
    opts.seccomp = draw(st.none() | st.sampled_from([cz.Seccomp("unconfined"), cz.Seccomp("oci", POLICY)]))  # fmt: skip
    return opts


def schema_errors(spec: dict[str, Any]) -> list[str]:
    doc = parse_text(json.dumps(spec, indent="\t"), "generated.json")
    return [d.render() for d in validate_config(doc) if d.severity == "error"]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(PROFILES),
    st.builds(
        ProfileParams,
        st.sampled_from([0, 1000]),
        st.sampled_from([0, 1000]),
        st.booleans(),
        st.just(POLICY),
    ),  # fmt: skip
    options(),
)
def test_flags_on_any_profile_validate_and_are_idempotent(
    profile: str, params: ProfileParams, opts: cz.SpecOptions
) -> None:
    once = cz.customize(build_profile(profile, params), opts)
    assert schema_errors(once) == []
    assert cz.customize(once, opts) == once
