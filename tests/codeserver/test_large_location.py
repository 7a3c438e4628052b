"""A 50,000-asset code location loads, whole and streamed."""

from __future__ import annotations

from codeserver_harness import CODE
from weir_protos.v1 import code_location_pb2, definitions_pb2

ASSETS = 50_000
DEFAULT_CLIENT_LIMIT = 4 * 1024 * 1024  # gRPC's default receive limit


def test_fifty_thousand_assets_load_streamed_and_whole(start_codeserver):
    server = start_codeserver(CODE / "layered.py")
    info = server.stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())

    merged = definitions_pb2.DefinitionsSnapshot()
    parts = list(server.stub.StreamDefinitions(code_location_pb2.StreamDefinitionsRequest()))
    for part in parts:
        assert len(part.part.assets) <= 1000
        assert part.ByteSize() < DEFAULT_CLIENT_LIMIT
        merged.MergeFrom(part.part)
    assert len(merged.assets) == ASSETS
    assert merged.content_hash == info.content_hash
    assert [d.asset_key.path for d in merged.assets[-1].deps] == [
        ["asset_49899"],
        ["asset_49800"],
    ]

    # In one message it is past the default limit; the harness's client raised its own.
    whole = server.stub.GetDefinitions(code_location_pb2.GetDefinitionsRequest()).definitions
    assert whole.ByteSize() > DEFAULT_CLIENT_LIMIT
    assert whole == merged
