"""`python -m local.host`: see local/host/cli.py."""

from local.host.cli import main

main()
