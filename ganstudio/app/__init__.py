"""The Qt layer: GAN Studio's window (``ganstudio``), built on the Qt-free core.

Entry point :func:`ganstudio.app.main.main`; the window is :class:`ganstudio.app.window.MainWindow`.
Only this package imports PySide6, pyqtgraph and superqt.
"""
