"""anytune-ray: the local provider's training on a Ray cluster, as a Ray job.

Registered as the ``ray`` provider of anytune::

    from anytune import Job
    job = Job.create(provider="ray", model="/shared/models/qwen", training_file="chat.jsonl",
                     workers=4, gpus_per_worker=1, storage="s3://bucket/anytune")
    job.wait()
    job.result.model   # the adapter folder on the storage

The cluster comes from ``RAY_ADDRESS`` (or the ``address`` setting). Importing this package
is cheap: ray, torch and transformers load only when a job is submitted or trained.
"""

from anytune_ray._provider import RayProvider

__all__ = ["RayProvider"]
