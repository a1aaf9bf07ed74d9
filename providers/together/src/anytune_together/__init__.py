"""anytune's Together AI provider (``provider="together"``) and a local emulator of
Together's fine-tuning API (``anytune sandbox together``).

Importing this package is cheap: the ``together`` SDK is imported on the first network call.
"""

from anytune_together._provider import TogetherProvider

__all__ = ["TogetherEmulator", "TogetherProvider"]


def __getattr__(name: str) -> object:
    # The emulator pulls in http.server; load it only when asked for.
    if name == "TogetherEmulator":
        from anytune_together.emulator import TogetherEmulator

        return TogetherEmulator
    raise AttributeError(name)
