"""GAN Studio: train, watch and explore generative adversarial networks.

The package is split into a Qt-free core (``config``, ``models``, ``data``, ``engine``,
``metrics``, ``export``, ``cli``) and a thin Qt layer (``app``). Nothing in the core imports Qt,
so the command line and future ``torchrun`` jobs share the exact engine the window uses.
"""

__version__ = "0.1.0"
