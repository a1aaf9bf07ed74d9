"""anytune's OpenAI provider (``provider="openai"``) and a local emulator of OpenAI's
fine-tuning API (``anytune sandbox openai``).

Importing this package is cheap: the ``openai`` SDK is imported on the first network call.
"""

from anytune_openai._catalog import TrainingUnavailableError
from anytune_openai._provider import OpenAIProvider

__all__ = ["OpenAIEmulator", "OpenAIProvider", "TrainingUnavailableError"]


def __getattr__(name: str) -> object:
    # The emulator pulls in http.server; load it only when asked for.
    if name == "OpenAIEmulator":
        from anytune_openai.emulator import OpenAIEmulator

        return OpenAIEmulator
    raise AttributeError(name)
