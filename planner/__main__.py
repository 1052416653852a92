"""Allow ``python -m planner``."""

from planner.cli.entry import main

if __name__ == "__main__":
    main()
