"""One module per engine of the benchmark; see ``bench/worker.py`` for the protocol."""
