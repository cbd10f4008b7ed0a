"""Real backends as native processes: install/build them into a cache (install.py, cache.py)
and run them on 127.0.0.1 (supervisor.py). Used by `dtobs backends install|up|down|status`."""
