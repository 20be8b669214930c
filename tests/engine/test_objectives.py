"""Objectives on logits and the penalties, against their textbook forms."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganstudio.engine import objectives


def test_nonsaturating_equals_sigmoid_plus_bce():
    torch.manual_seed(0)
    real, fake = torch.randn(32), torch.randn(32)
    bce = nn.BCELoss()
    expected_d = bce(torch.sigmoid(real), torch.ones(32)) + bce(torch.sigmoid(fake), torch.zeros(32))
    expected_g = bce(torch.sigmoid(fake), torch.ones(32))
    torch.testing.assert_close(objectives.discriminator_loss("nonsaturating", real, fake), expected_d)
    torch.testing.assert_close(objectives.generator_loss("nonsaturating", fake), expected_g)


def test_hinge_wgan_and_least_squares_values():
    real = torch.tensor([2.0, 0.5])
    fake = torch.tensor([-2.0, 0.0])
    assert objectives.discriminator_loss("hinge", real, fake).item() == pytest.approx(0.25 + 0.5)
    assert objectives.generator_loss("hinge", fake).item() == pytest.approx(1.0)
    assert objectives.discriminator_loss("wgan-gp", real, fake).item() == pytest.approx(-1 - 1.25)
    assert objectives.discriminator_loss("lsgan", real, fake).item() == pytest.approx(
        0.5 * (1 + 0.25) / 2 + 0.5 * 4 / 2)
    assert objectives.generator_loss("lsgan", fake).item() == pytest.approx(0.5 * (9 + 1) / 2)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # D(x) = w.x has gradient w everywhere, so the penalty is (|w| - 1)^2 for any interpolate.
    critic = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0, 0.0]]))

    class D(nn.Module):
        def forward(self, x, labels=None):
            return critic(x).flatten()

    gp = objectives.gradient_penalty(D(), torch.randn(8, 3), torch.randn(8, 3), None)
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)
    gp.backward()
    assert critic.weight.grad is not None  # the penalty trains the critic


def test_r1_penalty_is_squared_gradient_norm_on_real_data():
    x = torch.randn(4, 2, requires_grad=True)
    logits = (x ** 2).sum(1)  # gradient 2x
    r1 = objectives.r1_penalty(logits, x)
    assert r1.item() == pytest.approx((4 * x.detach() ** 2).sum(1).mean().item(), rel=1e-5)


def test_readout_is_a_probability_only_for_the_nonsaturating_loss():
    logits = torch.tensor([0.0, 0.0])
    assert objectives.readout("nonsaturating", logits).item() == 0.5
    assert objectives.readout("hinge", logits + 3).item() == 3.0
