"""Exploring a generator's latent space without Qt: paths, truncation and principal directions.

* :mod:`ganstudio.explore.paths` — lerp/slerp interpolation, walks along a direction, truncation
  and how a shown latent is composed from a base latent, truncation and direction values.
* :mod:`ganstudio.explore.directions` — GANSpace-style principal directions (PCA of latents,
  of an intermediate layer or of the output, mapped back to the latent space), cached per
  generator.

The window's latent panel and ``ganstudio-sample`` both use these functions, so a latent the
panel shows is computed bit for bit as the command line computes it.
"""
