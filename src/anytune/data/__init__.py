"""Dataset handling for preflight: streaming readers, the canonical record model,
format readers and writers, validation rules and token counting.

Named ``data`` (not ``datasets``) to stay clear of the Hugging Face package. The public
entry points are :func:`anytune.validate`, :func:`anytune.estimate` and
:func:`anytune.convert`; this package holds the parts they are built from.
"""

from anytune.data._formats import FORMATS, detect_format, parse_record
from anytune.data._readers import iter_items
from anytune.data._records import ROLES, Example, Message, ToolCall
from anytune.data._tokens import TokenCounter, make_counter
from anytune.data._writers import (
    CORE_FORMATS,
    DataFormat,
    Issues,
    data_format,
    data_formats,
    not_expressible,
    openai_messages,
    write_example,
)

__all__ = [
    "CORE_FORMATS",
    "FORMATS",
    "ROLES",
    "DataFormat",
    "Example",
    "Issues",
    "Message",
    "TokenCounter",
    "ToolCall",
    "data_format",
    "data_formats",
    "detect_format",
    "iter_items",
    "make_counter",
    "not_expressible",
    "openai_messages",
    "parse_record",
    "write_example",
]
