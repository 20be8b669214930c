"""GAN Studio: train, watch and explore generative adversarial networks.

The package is split into a Qt-free core (``config``, ``models``, ``data``, ``engine``,
``metrics``, ``export``, ``cli``) and a thin Qt layer (``app``). Nothing in the core imports Qt,
so the command line and future ``torchrun`` jobs share the exact engine the window uses.
"""

import os

# OpenMP threads that finish a parallel region sleep instead of spinning for the next one.
# GNU OpenMP's default busy-wait made a DCGAN step 3-4x slower on a 2-core machine shared with
# other work (docs/performance.md), and spinning threads would steal the window's CPU too. It
# must be set before torch loads its OpenMP runtime; an explicit setting is respected.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
