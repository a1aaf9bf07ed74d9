"""``anytune sandbox`` and ``anytune quickstart``: trying anytune without an account, on a
provider's local emulator or with the provider's own short real run."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from anytune._errors import ConfigurationError
from anytune.cli import JsonOpt, ProviderOpt, _emit, _run, app

if TYPE_CHECKING:  # anytune.provider loads the pydantic types: not for `anytune --help`
    from anytune.provider import Provider


@app.command()
def sandbox(
    provider: str,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    job_seconds: Annotated[float, typer.Option("--job-seconds", help="Wall time of a job.")] = 30.0,
    faults: Annotated[str, typer.Option(help="OPERATION:KIND[:COUNT],...")] = "",
    api_key: Annotated[str | None, typer.Option("--api-key", help="Answer 401 to any other key.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a local emulator of a provider's API until Ctrl-C."""
    import signal
    import threading

    from anytune import _registry

    stop = threading.Event()

    def body() -> tuple[Any, int]:
        from anytune._checks import check_options

        check_options({"port": port, "job_seconds": job_seconds})
        emu = _registry.provider_class(provider).emulator(
            port=port, job_seconds=job_seconds, faults=faults, api_key=api_key)
        emu.start()
        if as_json:
            _emit({"provider": provider, "env": emu.env})
        else:
            for key, value in emu.env.items():
                print(f"export {key}={value}")
        sys.stdout.flush()
        # SIGTERM as well as Ctrl-C: a sandbox started in the background of a script
        # ignores SIGINT (shells do that to background jobs), so `kill` must stop it.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            emu.stop()
        return None, 0

    _run(as_json, body, lambda doc: None)


def offers_quickstart(cls: type[Provider]) -> bool:
    """Whether provider class ``cls`` overrides the SPI's ``quickstart`` hook."""
    from anytune.provider import Provider

    return getattr(cls.quickstart, "__func__", None) is not getattr(Provider.quickstart, "__func__", None)


def quickstart_class(provider: str | None) -> type[Provider]:
    """The provider whose quickstart runs: ``provider`` when given (whose hook raises
    :class:`UnsupportedError` when it offers none), else the first installed provider,
    in name order, that offers one (the local provider, in a standard install)."""
    from anytune import _registry

    if provider is not None:
        return _registry.provider_class(provider)
    for name in _registry.available():
        try:
            cls = _registry.provider_class(name)
        except Exception:  # a broken plugin does not stop the others' quickstart
            continue
        if offers_quickstart(cls):
            return cls
    raise ConfigurationError(
        "no installed provider offers a quickstart (installed: "
        f"{', '.join(_registry.available()) or 'none'}); anytune-local runs one on this machine"
    )


@app.command()
def quickstart(provider: ProviderOpt = None, as_json: JsonOpt = False) -> None:
    """A short real run on a provider that offers one: by default a LoRA fine-tune of a
    tiny local model on CPU, in under two minutes."""

    def body() -> tuple[Any, int]:
        result = quickstart_class(provider).quickstart()
        return (result if isinstance(result, dict) else {"result": str(result)}), 0

    _run(as_json, body, lambda doc: None)
