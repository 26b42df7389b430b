"""``mx.kv`` / ``mx.kvstore``: key-value stores that aggregate values across devices
(kvstore.py) and across workers on torch.distributed (dist.py)."""
from .kvstore import KVStore, create, select
from .dist import DistKVStore, data_shard

KVStoreBase = KVStore  # MXNet 1.9's base name, used in isinstance checks

__all__ = ["KVStore", "KVStoreBase", "DistKVStore", "create", "select", "data_shard"]
