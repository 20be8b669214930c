"""DiffAugment keeps shapes, stays differentiable, and does what each policy says."""

from __future__ import annotations

import torch

from ganstudio.engine.augment import diff_augment


def test_all_policies_keep_shape_and_pass_gradients():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, "color,translation,cutout")
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_cutout_blanks_a_quarter_and_translation_moves_content():
    torch.manual_seed(0)
    x = torch.ones(64, 1, 16, 16)
    cut = diff_augment(x, "cutout")
    blank = (cut == 0).float().mean().item()
    assert 0.1 < blank < 0.3  # an 8x8 hole (clipped at borders) in a 16x16 image
    moved = diff_augment(x, "translation")
    assert (moved == 0).any() and torch.equal(moved.unique(), torch.tensor([0.0, 1.0]))


def test_empty_policy_is_identity():
    x = torch.randn(2, 3, 8, 8)
    assert diff_augment(x, "") is x
