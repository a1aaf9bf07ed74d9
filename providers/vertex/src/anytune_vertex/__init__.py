"""anytune's Vertex AI provider (``provider="vertex"``): Gemini tuning through
``google-genai`` with the training data uploaded to Cloud Storage, and a local emulator of
both APIs (``anytune sandbox vertex``).

Importing this package is cheap: the Google SDKs are imported on the first network call.
"""

from anytune_vertex._provider import VertexProvider

__all__ = ["VertexEmulator", "VertexProvider"]


def __getattr__(name: str) -> object:
    # The emulator pulls in http.server; load it only when asked for.
    if name == "VertexEmulator":
        from anytune_vertex.emulator import VertexEmulator

        return VertexEmulator
    raise AttributeError(name)
