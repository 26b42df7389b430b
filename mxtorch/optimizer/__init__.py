"""``mx.optimizer``: the Optimizer base and registry, SGD / NAG / Adam with MXNet 1.9.1's
arithmetic (all parameters of a device updated at once), and the Updater."""
from .optimizer import Optimizer, register, create
from .sgd import SGD, ccSGD
from .nag import NAG
from .adam import Adam
from .updater import Updater, get_updater

create_optimizer = create   # Optimizer.create_optimizer, also at module level

__all__ = ["Optimizer", "register", "create", "create_optimizer", "SGD", "ccSGD", "NAG",
           "Adam", "Updater", "get_updater"]
