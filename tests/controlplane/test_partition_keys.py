"""The control plane reads partition keys as the SDK does: an SDK definition converted to
the wire by the code server, read back by `api.partition_keys`, accepts exactly the keys
the SDK accepts (static, time windows in random zones, multi, dynamic)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st
from weir_codeserver.wire_partitions import partitions_def_message
from weir_controlplane.partitions import key_space

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@st.composite
def time_windows(draw: st.DrawFn) -> dg.PartitionsDefinition:
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1)))
    end = start + timedelta(days=draw(st.integers(1, 300))) if draw(st.booleans()) else None
    cron = draw(
        st.sampled_from(["0 * * * *", "15 3 * * *", "0 0 * * 0", "0 0 1 * *", "0 0 * * 1#2"])
    )
    fmt = "%Y-%m-%d-%H:%M" if cron.endswith("* * * *") else "%Y-%m-%d"
    return dg.TimeWindowPartitionsDefinition(
        start=start,
        end=end,
        fmt=fmt,
        cron_schedule=cron,
        timezone=zone,
        end_offset=draw(st.integers(-1, 2)),
    )


statics = st.lists(st.text("abcxyz-_", min_size=1, max_size=4), min_size=1, max_size=6, unique=True)
one_dimension = st.one_of(
    time_windows(),
    statics.map(dg.StaticPartitionsDefinition),
    st.just(dg.DynamicPartitionsDefinition(name="files")),
)
definitions = st.one_of(
    one_dimension,
    st.tuples(one_dimension, one_dimension).map(
        lambda pair: dg.MultiPartitionsDefinition({"a": pair[0], "b": pair[1]})
    ),
)


def candidate_keys(defn: dg.PartitionsDefinition, now: datetime) -> list[str]:
    """Keys the SDK has now, and near misses: neighbours in time, edits, other shapes."""
    if isinstance(defn, dg.MultiPartitionsDefinition):
        parts = [candidate_keys(d.partitions_def, now) for d in defn.partitions_defs]
        combined = [f"{x}|{y}" for x in parts[0][:6] for y in parts[1][:6]]
        return [*combined, parts[0][0], f"{parts[0][0]}|{parts[1][0]}|extra"]
    if isinstance(defn, dg.DynamicPartitionsDefinition):
        return ["report.csv", "", "x"]
    keys = list(defn.get_partition_keys(current_time=now))
    if isinstance(defn, dg.TimeWindowPartitionsDefinition):
        keys = keys[:3] + keys[-3:]
        keys.append(defn.get_partition_key_for_timestamp(now.timestamp() + 86400 * 40))
        keys.append(defn.get_partition_key_for_timestamp(defn.start.timestamp() - 86400 * 40))
    return [*keys, *(k + "0" for k in keys[:2]), *(k[:-1] for k in keys[:2]), "nope"]


@settings(max_examples=150, deadline=None)
@given(definitions, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2027, 1, 1)))
def test_the_control_plane_accepts_exactly_the_keys_the_sdk_accepts(defn, now):
    now = now.replace(tzinfo=ZoneInfo("UTC"))
    space = key_space(partitions_def_message(defn))
    for key in candidate_keys(defn, now):
        assert space.has_key(key, now.timestamp()) == defn.has_partition_key(
            key, current_time=now
        ), key


@settings(max_examples=150, deadline=None)
@given(definitions)
def test_the_wire_gives_the_key_space_the_sdk_definition_has(defn):
    # Equal key spaces pick the same default mappings on both sides, and errors spell the
    # definition the same way.
    space = key_space(partitions_def_message(defn))
    assert space == defn._key_space(None, None)
    assert repr(space) == repr(defn)
