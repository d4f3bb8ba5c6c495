"""`python -m word2vec` and the `w2v` command: the command line of `cli`, started so that a local cluster's
forkserver starts before the command line's own imports (see `distributed.connect.start_early`)."""

import sys


def main():
    from .distributed import connect

    connect.start_early(sys.argv[1:])
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
