"""Beyond one machine: count, encode and train on a Dask cluster (the `dask` extra, imported only when asked for)."""
