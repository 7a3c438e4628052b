"""One module per workload; `bench.spec` says what each declares. `_`-prefixed are helpers."""
