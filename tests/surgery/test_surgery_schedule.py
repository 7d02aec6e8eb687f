"""The mask update: thresholds from trained weights, hysteresis, splicing, the probability schedule."""

import math

import pytest
import torch
from torch import nn
from zoo_surgery.layers import MaskedLinear
from zoo_surgery.surgery import DynamicSurgery, LayerSettings


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(MaskedLinear(20, 30), nn.ReLU(), MaskedLinear(30, 5))


def _theta_by_hand(layer, c_rate):
    values = torch.cat([layer.weight.detach().flatten(), layer.bias.detach().flatten()]).abs().double()
    values = values[values != 0]
    mu = values.mean().item()
    sigma = math.sqrt((values**2).mean().item() - mu**2)  # population std of |w|, as the Caffe code
    return mu, sigma, max(mu + c_rate * sigma, 0.0)


def test_thresholds_come_from_weights_and_biases_once():
    net = _net()
    with torch.no_grad():
        net[0].weight[0, :5] = 0  # exact zeros do not count (Caffe's ncount)
    surgery = DynamicSurgery(net, c_rate=0.5, layers={"2": {"c_rate": -10.0}})
    surgery.step(0)
    first, second = surgery.layers
    mu, sigma, theta = _theta_by_hand(net[0], 0.5)
    assert first.mu == pytest.approx(mu) and first.sigma == pytest.approx(sigma)
    assert first.theta == pytest.approx(theta)
    assert second.theta == 0.0  # max(mu + c * sigma, 0) clamps
    # Computed once: growing the weights later does not move the threshold.
    with torch.no_grad():
        net[0].weight.mul_(10)
    surgery.step(1)
    assert first.theta == pytest.approx(theta)


def test_first_update_prunes_exactly_the_small_weights():
    net = _net()
    surgery = DynamicSurgery(net, c_rate=0.3)
    weight = net[0].weight.detach().clone()
    bias = net[0].bias.detach().clone()
    surgery.step(0)  # probability 1 at iteration 0
    theta = surgery.layers[0].theta
    assert torch.equal(net[0].weight_mask, (weight.abs() > 0.9 * theta).float())
    assert torch.equal(net[0].bias_mask, (bias.abs() > 0.9 * theta).float())
    assert 0 < net[0].weight_mask.mean() < 1
    assert surgery.layers[0].prune_events == int(
        (net[0].weight_mask == 0).sum() + (net[0].bias_mask == 0).sum()
    )


def _band_setup(splice=True):
    net = _net()
    surgery = DynamicSurgery(net, c_rate=0.3, gamma=0.0, splice=splice)  # gamma 0: update every iteration
    surgery.step(0)
    theta = surgery.layers[0].theta
    return net, surgery, theta


def test_hysteresis_band_keeps_mask_state_and_grown_weights_are_spliced_back():
    net, surgery, theta = _band_setup()
    layer = net[0]
    with torch.no_grad():
        # [0,0]: kept, in the band -> stays kept; [0,1]: pruned, in the band -> stays pruned;
        # [0,2]: pruned, grown past 1.1 theta -> spliced; [0,3]: kept, shrunk to 0.9 theta -> pruned.
        layer.weight_mask[0, :4] = torch.tensor([1.0, 0.0, 0.0, 1.0])
        layer.weight[0, :4] = torch.tensor([1.0, -1.05, -1.1001, 0.899]) * theta
    spliced_before = surgery.splice_events
    surgery.step(1)
    assert layer.weight_mask[0, :4].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert surgery.splice_events >= spliced_before + 1


@pytest.mark.parametrize("splice", [True, False])
def test_training_regrows_a_pruned_weight_that_matters_and_surgery_splices_it(splice):
    # y = x0 + x1 + x2 + 2 x3, but the "trained" weight of x3 is tiny, so the first update prunes it.
    torch.manual_seed(0)
    layer = MaskedLinear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 0.01]]))
    net = nn.Sequential(layer)
    surgery = DynamicSurgery(net, c_rate=-1.0, gamma=0.0, iter_stop=10**6, splice=splice)
    opt = torch.optim.SGD(layer.parameters(), lr=0.05)
    x = torch.randn(256, 4)
    y = x @ torch.tensor([1.0, 1.0, 1.0, 2.0])
    for it in range(200):
        surgery.step(it)
        if it == 0:
            theta = surgery.layers[0].theta
            assert layer.weight_mask.tolist() == [[1.0, 1.0, 1.0, 0.0]]
        opt.zero_grad()
        loss = (net(x).squeeze(1) - y).pow(2).mean()
        loss.backward()
        opt.step()
    # The straight-through gradient grew the pruned weight past 1.1 theta ...
    assert layer.weight[0, 3] > 1.1 * theta
    if splice:  # ... and the next update spliced it back, so the model fits.
        assert layer.weight_mask[0, 3] == 1 and surgery.splice_events == 1
        assert loss.item() < 1e-3
    else:  # prune-only keeps it cut, and the model cannot fit y.
        assert layer.weight_mask[0, 3] == 0 and surgery.splice_events == 0
        assert loss.item() > 1.0


def test_prune_only_never_splices():
    net, surgery, theta = _band_setup(splice=False)
    with torch.no_grad():
        net[0].weight_mask[0, 0] = 0
        net[0].weight[0, 0] = 5 * theta
    surgery.step(1)
    assert net[0].weight_mask[0, 0] == 0
    assert surgery.splice_events == 0


def _update_iterations(surgery, iterations):
    """Iterations at which each layer's mask update ran."""
    seen = {s.name: [] for s in surgery.layers}
    for it in range(iterations):
        before = [s.updates for s in surgery.layers]
        surgery.step(it)
        for s, b in zip(surgery.layers, before, strict=True):
            if s.updates > b:
                seen[s.name].append(it)
    return seen


def test_probability_schedule_replays_from_the_seed():
    settings = {"0": {"gamma": 0.05, "power": 1.0}, "2": {"gamma": 0.01, "power": 2.0}}
    seen = _update_iterations(DynamicSurgery(_net(), iter_stop=10**6, layers=settings, seed=7), 300)
    # Replay: one U[0,1) draw per layer per iteration from a generator seeded the same way.
    g = torch.Generator().manual_seed(7)
    expected = {"0": [], "2": []}
    for it in range(300):
        r = torch.rand(2, generator=g, dtype=torch.float64).tolist()
        for name, ri in zip(("0", "2"), r, strict=True):
            s = settings[name]
            if (1 + s["gamma"] * it) ** (-s["power"]) > ri:
                expected[name].append(it)
    assert seen == expected
    assert seen["0"][0] == 0 and seen["2"][0] == 0  # probability 1 at iteration 0
    # The same seed replays; another seed draws another schedule.
    again = _update_iterations(DynamicSurgery(_net(), iter_stop=10**6, layers=settings, seed=7), 300)
    other = _update_iterations(DynamicSurgery(_net(), iter_stop=10**6, layers=settings, seed=8), 300)
    assert again == seen and other != seen


def test_update_frequency_follows_the_probability():
    gamma, n = 0.02, 4000
    surgery = DynamicSurgery(_net(), gamma=gamma, power=1.0, iter_stop=10**6, seed=3)
    seen = _update_iterations(surgery, n)
    expected = sum(LayerSettings(gamma=gamma, iter_stop=10**6).probability(i) for i in range(n))
    variance = sum(p * (1 - p) for p in (1 / (1 + gamma * i) for i in range(n)))
    for its in seen.values():
        assert abs(len(its) - expected) < 5 * math.sqrt(variance)
    # Early iterations update far more often than late ones.
    assert sum(i < 200 for i in seen["0"]) > sum(i >= n - 200 for i in seen["0"]) * 3


def test_torch_manual_seed_makes_runs_repeatable():
    torch.manual_seed(11)
    a = _update_iterations(DynamicSurgery(_net(), gamma=0.1), 100)
    torch.manual_seed(11)
    b = _update_iterations(DynamicSurgery(_net(), gamma=0.1), 100)
    assert a == b


def test_masks_freeze_after_iter_stop_per_layer():
    net = _net()
    surgery = DynamicSurgery(net, c_rate=0.3, gamma=0.0, iter_stop=5, layers={"2": {"iter_stop": 50}})
    for it in range(5):
        surgery.step(it)
    first_mask = net[0].weight_mask.clone()
    with torch.no_grad():  # every weight now far past any threshold: an update would splice all back
        net[0].weight.fill_(100.0)
        net[2].weight.fill_(100.0)
    for it in range(5, 40):
        surgery.step(it)
    assert torch.equal(net[0].weight_mask, first_mask)  # past its iter_stop: frozen
    assert surgery.layers[0].updates == 5
    assert net[2].weight_mask.all()  # still before its own iter_stop: spliced back
    assert LayerSettings(iter_stop=5).probability(5) == 0.0


def test_settings_validation_and_selection():
    net = _net()
    surgery = DynamicSurgery(
        net, c_rate=2.0, layers={"*": {"gamma": 1e-4}, "2": {"c_rate": 4, "iter_stop": 14000}}
    )
    first, second = surgery.layers
    assert first.settings == LayerSettings(c_rate=2.0, gamma=1e-4, power=1.0, iter_stop=8000)
    assert second.settings == LayerSettings(c_rate=4, gamma=1e-4, power=1.0, iter_stop=14000)
    assert [s.name for s in DynamicSurgery(net, layers={"0": None}).layers] == ["2"]
    with pytest.raises(ValueError, match="unknown surgery setting"):
        DynamicSurgery(net, layers={"0": {"crate": 3}})
    with pytest.raises(ValueError, match="match no masked layer"):
        DynamicSurgery(net, layers={"fc9": {"c_rate": 3}})
    with pytest.raises(ValueError, match="to_masked"):
        DynamicSurgery(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="gamma"):
        LayerSettings(gamma=-1)
    with pytest.raises(ValueError, match="iteration"):
        surgery.step(-1)


def test_state_dict_resumes_the_same_schedule():
    settings = dict(gamma=0.05, iter_stop=10**6, seed=5)
    full = _update_iterations(DynamicSurgery(_net(), **settings), 60)
    first = DynamicSurgery(_net(), **settings)
    _update_iterations(first, 30)
    resumed = DynamicSurgery(_net(), **{**settings, "seed": 99})
    resumed.load_state_dict(first.state_dict())
    tail = {s.name: [] for s in resumed.layers}
    for it in range(30, 60):
        before = [s.updates for s in resumed.layers]
        resumed.step(it)
        for s, b in zip(resumed.layers, before, strict=True):
            if s.updates > b:
                tail[s.name].append(it)
    assert tail == {k: [i for i in v if i >= 30] for k, v in full.items()}
    assert resumed.layers[0].theta == first.layers[0].theta
