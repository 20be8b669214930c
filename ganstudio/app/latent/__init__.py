"""The latent explorer: preview, sliders, variations and exports for one generator."""
