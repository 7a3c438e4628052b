"""Generated Python code for Weir's wire contract, protobuf package ``weir.v1``.

The messages and gRPC stubs live in ``weir_protos.v1``, one module per proto file::

    from weir_protos.v1 import common_pb2, runs_pb2

    key = common_pb2.AssetKey(path=["raw", "orders"])
    request = runs_pb2.RunRequest(asset_keys=[key], partition_key="2024-01-01")

Everything under ``weir_protos.v1`` is generated from ``protos/weir/v1/*.proto`` by
``make protos`` and never edited by hand; protos/README.md explains the contract.
"""
