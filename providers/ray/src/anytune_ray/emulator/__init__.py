"""What ``anytune sandbox ray`` runs, kept apart from the provider code users run, where
the other providers keep their emulator: Ray is free to run on one machine, so this is a
real single-machine Ray cluster bound to 127.0.0.1 (:mod:`.cluster`), not an emulation.
"""

from anytune_ray.emulator.cluster import (
    LocalCluster,
    cluster_processes,
    free_port,
    loopback_env,
    stop_processes,
)

__all__ = ["LocalCluster", "cluster_processes", "free_port", "loopback_env", "stop_processes"]
