"""``mx.optimizer``: the Optimizer base and registry, every optimizer of MXNet 1.9.1
with its arithmetic (all parameters of a device updated at once), the Updater, and
optimizer states as bytes both ways (ours without pickle; MXNet's ``.states`` pickles
read safely and written by :func:`to_mxnet_states`)."""
from .optimizer import Optimizer, register, create
from .sgd import SGD, ccSGD
from .nag import NAG
from .adam import Adam
from .adagrad import AdaGrad
from .rmsprop import RMSProp
from .adadelta import AdaDelta
from .adamax import Adamax
from .nadam import Nadam
from .signum import Signum
from .ftrl import Ftrl
from .ftml import FTML
from .layerwise import LAMB, LARS
from .lbsgd import LBSGD
from .sgld import SGLD
from .dcasgd import DCASGD
from .testing import Test
from . import contrib
from .contrib import GroupAdaGrad
from .updater import Updater, get_updater
from .states import to_mxnet_states

create_optimizer = create   # Optimizer.create_optimizer, also at module level

__all__ = ["Optimizer", "register", "create", "create_optimizer", "SGD", "ccSGD", "NAG",
           "Adam", "AdaGrad", "RMSProp", "AdaDelta", "Adamax", "Nadam", "Signum", "Ftrl",
           "FTML", "LAMB", "LARS", "LBSGD", "SGLD", "DCASGD", "Test", "GroupAdaGrad", "contrib",
           "Updater", "get_updater", "to_mxnet_states"]
