import pytest
from torch import nn

from animestyle.nn import eval_mode


def test_eval_mode_switches_every_module_and_restores_each_submodule_mode() -> None:
    training = nn.Sequential(nn.Dropout(), nn.Linear(2, 2))
    training[1].eval()  # a frozen part inside a training network
    frozen = nn.Linear(2, 2).eval()
    with eval_mode(training, frozen, lambda x: x, None):  # non-modules are passed over
        assert not any(m.training for m in [*training.modules(), frozen])
    assert [m.training for m in training.modules()] == [True, True, False]
    assert not frozen.training


def test_eval_mode_restores_the_modes_when_the_block_raises() -> None:
    network = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="inside"), eval_mode(network):
        raise RuntimeError("inside")
    assert network.training
