"""`python -m tipline.cli`: the `tipline` command without its console script (tests and benchmarks run it so)."""

from tipline.cli.main import main

main()
