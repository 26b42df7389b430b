"""``mx.kv`` / ``mx.kvstore``: key-value stores that aggregate values across devices.
The local store lives here; the distributed ones (torch.distributed) are issue 7."""
from .kvstore import KVStore, create, select

KVStoreBase = KVStore  # MXNet 1.9's base name, used in isinstance checks

__all__ = ["KVStore", "KVStoreBase", "create", "select"]
