"""``python -m anytune``: the CLI."""

from anytune.cli import main

main()
