"""Whatever a flaky server does, the cache ends with the right bytes or nothing."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo.hub import fetch

from .conftest import payload, sha

SIZE = 30_000
actions = st.one_of(
    st.tuples(st.just("drop"), st.integers(0, SIZE)),
    st.tuples(st.just("ignore_range")),
    st.tuples(st.just("ignore_range"), st.integers(0, SIZE)),
    st.tuples(st.just("status"), st.sampled_from([500, 503, 429, 408])),
)
counter = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(actions, max_size=6), size=st.integers(1, SIZE))
def test_any_sequence_of_failures_ends_in_the_right_file(file_server, home, sleeps, monkeypatch, plan, size):
    monkeypatch.setenv("ZOO_MAX_RETRIES", "7")  # more than the plan's failures: it must succeed
    n = next(counter)
    data = payload(size, seed=1000 + n)
    path = f"/p{n}.bin"
    url = file_server.add(path, data)
    file_server.plan[path] = [a if a[0] == "status" else (a[0], *(min(x, size) for x in a[1:])) for a in plan]
    result = fetch(url, sha256=sha(data), size=size)
    assert result.read_bytes() == data
    served = sum(r.sent for r in file_server.gets(path))
    if all(a[0] != "ignore_range" for a in plan):
        assert served == size  # Range honoured: no byte is fetched twice
    assert not list((home / "partial").glob("*.part")) and not list((home / "partial").glob("*.tmp"))
