"""The latent panel's icons: the window's own (``resources/icons``) plus a few it lacks.

The extra ones are drawn in the same 24×24, 1.8-stroke, ``currentColor`` style and painted by the
window's :class:`~ganstudio.app.resources.SvgIconEngine`, so they follow the theme like the rest.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon

from ganstudio.app.resources import SvgIconEngine, icon

_EXTRA = {
    # A die showing five: "a random seed".
    "dice": b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
            b'stroke="currentColor" stroke-width="1.8"><rect x="3.5" y="3.5" width="17" '
            b'height="17" rx="3"/><g fill="currentColor" stroke="none"><circle cx="8.3" '
            b'cy="8.3" r="1.5"/><circle cx="15.7" cy="8.3" r="1.5"/><circle cx="12" cy="12" '
            b'r="1.5"/><circle cx="8.3" cy="15.7" r="1.5"/><circle cx="15.7" cy="15.7" '
            b'r="1.5"/></g></svg>',
    # A counter-clockwise arrow: "back to the seed's value".
    "reset": b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
             b'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
             b'stroke-linejoin="round"><path d="M4.5 12a7.5 7.5 0 1 0 2.2-5.3"/>'
             b'<path d="M4.5 3.5v4h4"/></svg>',
    # A closed padlock: "this value stays when the rest is randomised".
    "lock": b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
            b'stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"><rect x="5" '
            b'y="10.5" width="14" height="10" rx="2"/><path d="M8 10.5V7.5a4 4 0 0 1 8 0v3"/>'
            b'</svg>',
    # An open padlock.
    "unlock": b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
              b'stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"><rect x="5" '
              b'y="10.5" width="14" height="10" rx="2"/><path d="M8 10.5V7.5a4 4 0 0 1 7.7-1.5"/>'
              b'</svg>',
    # A triangle: "play".
    "play": b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
            b'stroke="currentColor" stroke-width="1.8" stroke-linejoin="round">'
            b'<path d="M7 4.5v15l12-7.5z"/></svg>',
    # Two overlapping sheets: "copy".
    "copy": b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
            b'stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"><rect x="8.5" '
            b'y="8.5" width="12" height="12" rx="2"/><path d="M15.5 8.5V5.5a2 2 0 0 0-2-2h-8a2 '
            b'2 0 0 0-2 2v8a2 2 0 0 0 2 2h3"/></svg>',
}


def latent_icon(name: str) -> QIcon:
    """``dice``, ``reset``, ``lock``, ``unlock``, ``play`` and ``copy`` from here; anything
    else from the window's icon folder."""
    if name in _EXTRA:
        return QIcon(SvgIconEngine(_EXTRA[name]))
    return icon(name)
