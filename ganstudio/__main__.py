"""``python -m ganstudio`` opens the window, like the ``ganstudio`` command."""

from ganstudio.app.main import main

if __name__ == "__main__":
    raise SystemExit(main())
