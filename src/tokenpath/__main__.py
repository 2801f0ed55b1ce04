"""``python -m tokenpath``: the same command line as the ``tokenpath`` script."""

from tokenpath.cli import main

if __name__ == "__main__":
    main()
