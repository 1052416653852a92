"""Allow ``python -m planner``."""

from planner.cli.root import main

if __name__ == "__main__":
    main()
