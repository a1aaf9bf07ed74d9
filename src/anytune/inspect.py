"""inspect-ai integration (``pip install "anytune[eval]"``): anytune jobs as inspect-ai
models, and inspect-ai tasks built from a job's held-out records.

Models: ``anytune/<job id>`` is the job's tuned model and ``anytune/<job id>@base`` its
base model, on any provider, through ``job.chat`` (inspect-ai finds the provider through
the ``inspect_ai`` entry point of the ``anytune`` distribution)::

    inspect eval my_task.py --model anytune/openai:ftjob-abc123

Tasks: :func:`holdout_task` turns a job's held-out records (or any data file anytune
reads) into an inspect-ai ``Task`` scored with anytune's scorers, so the logs, the log
viewer and inspect-ai's other models and scorers work on the same prompts::

    from inspect_ai import eval
    from anytune.inspect import holdout_task
    eval(holdout_task("openai:ftjob-abc123", scorer="json"), model=["anytune/openai:ftjob-abc123",
                                                                  "anytune/openai:ftjob-abc123@base"])

This module imports inspect-ai; ``import anytune`` never does.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset
from inspect_ai.dataset import Sample as InspectSample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

__all__ = ["AnytuneModelAPI", "anytune_scorer", "holdout_task"]

_ROLES = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}


class AnytuneModelAPI(ModelAPI):
    """An anytune job's tuned model (``<job id>``) or base model (``<job id>@base``)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_vars: list[str] | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008
        **model_args: Any,
    ) -> None:
        super().__init__(
            model_name=model_name,
            base_url=base_url,
            api_key=api_key,
            api_key_vars=api_key_vars or [],
            config=config,
        )
        job_id, _, which = model_name.partition("@")
        if which not in ("", "base"):
            raise ValueError(f"anytune/{model_name}: use anytune/<job id> or anytune/<job id>@base")
        self.job_id, self.base = job_id, which == "base"
        self.settings = model_args
        self._job: Any = None

    async def _get_job(self) -> Any:
        if self._job is None:
            from anytune import AsyncJob

            self._job = await AsyncJob.get(self.job_id, **self.settings)
        return self._job

    async def generate(
        self, input: list[ChatMessage], tools: list[Any], tool_choice: Any, config: GenerateConfig
    ) -> ModelOutput:
        """One ``job.chat`` call with inspect-ai's messages and generation settings."""
        job = await self._get_job()
        messages = [{"role": m.role, "content": m.text} for m in input if m.role in _ROLES]
        params = {
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "seed": config.seed,
        }
        reply = await job.chat(messages, base=self.base, **{k: v for k, v in params.items() if v is not None})
        output = ModelOutput.from_content(model=reply.model, content=reply.text)
        output.usage = ModelUsage(
            input_tokens=reply.prompt_tokens,
            output_tokens=reply.completion_tokens,
            total_tokens=reply.prompt_tokens + reply.completion_tokens,
        )
        return output

    def max_connections(self) -> int:
        """Requests in flight at once (inspect-ai's ``--max-connections`` overrides it)."""
        return 8


@modelapi(name="anytune")
def anytune() -> type[ModelAPI]:
    """The ``anytune/...`` model provider of inspect-ai."""
    return AnytuneModelAPI


@scorer(metrics=[accuracy(), stderr()])
def anytune_scorer(name: str = "json") -> Any:
    """One of anytune's local scorers (exact, json, json-schema[:FILE], contains,
    module:function) as an inspect-ai scorer; judges are inspect-ai's own
    ``model_graded_qa`` there."""
    from anytune._scorers import make_scorer

    made = make_scorer(name)
    if made.fn is None:
        raise ValueError(
            f"{name}: use inspect_ai.scorer.model_graded_qa(model=...) for a judge in inspect-ai"
        )
    fn = made.fn

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        value = fn(answer, target.text or None, state)
        return Score(value=CORRECT if value == 1.0 else INCORRECT if value == 0.0 else value, answer=answer)

    return score


def holdout_task(
    job_id: str | None = None, *, data: Any = None, scorer: str = "json", max_tokens: int = 256
) -> Task:
    """An inspect-ai task over a job's held-out records (``data`` to use other records)."""
    from anytune._evaluate import load_samples

    if data is None:
        if job_id is None:
            raise ValueError("holdout_task needs a job id or data")
        from anytune._holdout import find_holdout
        from anytune._jobbase import split_id

        provider, _ = split_id(job_id)
        data = find_holdout(job_id if ":" in job_id else f"{provider}:{job_id}", provider)
        if data is None:
            raise ValueError(f"job {job_id} has no held-out data; pass data=...")
    samples = [
        InspectSample(
            input=[_ROLES[m["role"]](content=m["content"]) for m in s.messages if m["role"] in _ROLES],
            target=s.reference or "",
            id=s.index + 1,
        )
        for s in load_samples(data)
    ]
    return Task(
        dataset=MemoryDataset(samples, name=f"anytune-holdout-{job_id or 'data'}"),
        solver=generate(),
        scorer=anytune_scorer(scorer),
        config=GenerateConfig(max_tokens=max_tokens, temperature=0.0),
    )
