"""Read PyTorch state dicts into numpy arrays without PyTorch and without trusting the file.

A `.pth` file is a pickle, and plain `pickle.load` runs whatever the file asks for. Weights come from
packages and downloads we do not control, so the unpickler here only knows the handful of names a
state dict needs; everything else is refused before it can be called. Both the legacy format
(PyTorch < 1.6: pickles followed by raw storages) and the zip format (one `data.pkl` plus one file per
storage) are read; the latter is cheap because only the storage lookup differs.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from builder.errors import ModelError

__all__ = ["read_state_dict"]

# Written by torch.save before anything else in the legacy format (torch/serialization.py).
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# PyTorch pickles the storage *class* as a dtype marker; only its name matters to us. bfloat16 has no
# numpy dtype, so it is read as raw 16-bit words and widened to float32 afterwards.
_STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True)
class _StorageType:
    """Stands in for `torch.FloatStorage` & co.: the pickle only uses the class to name a dtype."""

    name: str


@dataclass(frozen=True)
class _StorageRef:
    """A storage named by the pickle; its bytes come later (legacy) or from another zip member."""

    key: str
    storage_type: _StorageType
    numel: int
    # Legacy only: this reference is a slice of storage `key`, given as (view key, offset, count).
    view: tuple[str, int, int] | None = None


@dataclass(frozen=True)
class _TensorRef:
    """What `_rebuild_tensor_v2` would have built, kept symbolic until the storages are read."""

    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> _TensorRef:
    if not isinstance(storage, _StorageRef):
        raise pickle.UnpicklingError("a tensor refers to something that is not a storage")
    if not (_is_int_tuple(size) and _is_int_tuple(stride) and len(size) == len(stride)):
        raise pickle.UnpicklingError("a tensor has a malformed shape or stride")
    if not isinstance(storage_offset, int) or storage_offset < 0:
        raise pickle.UnpicklingError("a tensor has a malformed storage offset")
    return _TensorRef(storage, storage_offset, tuple(size), tuple(stride))


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    *_: Any,
) -> _TensorRef:
    # requires_grad, hooks and metadata only matter for training; a state dict read for inference
    # drops them.
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any, *_: Any) -> _TensorRef:
    if not isinstance(data, _TensorRef):
        raise pickle.UnpicklingError("a parameter wraps something that is not a tensor")
    return data


def _is_int_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, int) and v >= 0 for v in value)


_ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _Forbidden(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list: hostile, or not a plain state dict."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the names in `_ALLOWED_GLOBALS`, so the file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            pass
        if module == "torch" and name.endswith("Storage"):
            raise pickle.UnpicklingError(f"unsupported storage type torch.{name}")
        raise _Forbidden(f"forbidden global {module}.{name}")

    def persistent_load(self, pid: Any) -> _StorageRef:
        # Legacy: ('storage', type, key, location, numel, view_metadata); zip: the same without view.
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unknown storage type {storage_type!r:.80}")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError("malformed storage reference")
        if view is not None and not (
            isinstance(view, tuple)
            and len(view) == 3
            and isinstance(view[0], str)
            and _is_int_tuple(view[1:])
        ):
            raise pickle.UnpicklingError("malformed storage view")
        return _StorageRef(key, storage_type, numel, view)


def _unpickle(stream: IO[bytes]) -> Any:
    return _RestrictedUnpickler(stream).load()


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Read a PyTorch state dict (`torch.save(model.state_dict(), path)`) as name → numpy array.

    Raises ModelError naming the file for anything that is not a plain state dict: missing file,
    truncation, wrong magic number, a global outside the allow-list, unknown storage types.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: not a file; expected a PyTorch weights file (.pth)")
    try:
        with path.open("rb") as f:
            start = f.read(4)
            f.seek(0)
            if start == b"PK\x03\x04":
                return _read_zip(f)
            if not start:
                raise ModelError("the file is empty")
            # torch.save always writes pickle protocol 2 or later, which starts with the PROTO opcode.
            if start[0] != pickle.PROTO[0]:
                raise ModelError("not a PyTorch weights file (neither a zip archive nor a pickle)")
            return _read_legacy(f)
    except ModelError as e:
        raise ModelError(f"{path}: {e}") from None
    except _Forbidden as e:
        raise ModelError(f"{path}: refused to load, {e}; a state dict never needs it") from None
    except pickle.UnpicklingError as e:
        raise ModelError(f"{path}: not a valid PyTorch state dict: {e}") from None
    except zipfile.BadZipFile as e:
        raise ModelError(f"{path}: corrupt or truncated zip-format weights file: {e}") from None
    except EOFError:
        raise ModelError(f"{path}: file ends early; it is truncated or not a PyTorch weights file") from None
    except OSError as e:
        raise ModelError(f"{path}: cannot read: {e.strerror or e}") from None
    except Exception as e:  # a hostile or corrupt pickle can fail in many ways
        raise ModelError(
            f"{path}: not a valid PyTorch weights file ({type(e).__name__}: {str(e)[:200]})"
        ) from None


def _read_legacy(f: IO[bytes]) -> dict[str, np.ndarray]:
    magic = _unpickle(f)
    if magic != _LEGACY_MAGIC:
        raise ModelError("not a PyTorch weights file (wrong magic number)")
    protocol = _unpickle(f)
    if protocol != _LEGACY_PROTOCOL:
        raise ModelError(f"unsupported legacy protocol version {protocol!r:.40}")
    sys_info = _unpickle(f)
    little_endian = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    root = _unpickle(f)
    keys = _unpickle(f)
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise ModelError("malformed storage key list")

    # Storages follow in the order of `keys`, each as an 8-byte element count and then the elements.
    here = f.tell()
    size = f.seek(0, io.SEEK_END)
    f.seek(here)
    types = {ref.key: ref for ref in _storage_refs(root)}
    order = "<" if little_endian else ">"
    storages: dict[str, np.ndarray] = {}
    for key in keys:
        ref = types.get(key)
        if ref is None:
            raise ModelError(f"storage {key!r} is listed but never used")
        header = f.read(8)
        if len(header) < 8:
            raise EOFError
        (numel,) = struct.unpack(order + "q", header)
        dtype = _STORAGE_DTYPES[ref.storage_type.name].newbyteorder(order)
        nbytes = numel * dtype.itemsize
        if numel < 0 or nbytes > size - f.tell():
            raise EOFError
        storages[key] = np.frombuffer(f.read(nbytes), dtype=dtype)
    return _materialize(root, storages.__getitem__)


def _read_zip(f: IO[bytes]) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(f) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ModelError("zip-format weights file without exactly one data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "little"
        if f"{prefix}byteorder" in archive.namelist():
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
        root = _unpickle(io.BytesIO(archive.read(pickles[0])))
        order = "<" if byteorder == "little" else ">"
        refs = {ref.key: ref for ref in _storage_refs(root)}

        def load(key: str) -> np.ndarray:
            dtype = _STORAGE_DTYPES[refs[key].storage_type.name].newbyteorder(order)
            try:
                data = archive.read(f"{prefix}data/{key}")
            except KeyError:
                raise ModelError(f"storage {key!r} is missing from the archive") from None
            return np.frombuffer(data, dtype=dtype, count=len(data) // dtype.itemsize)

        return _materialize(root, load)


def _storage_refs(root: Any) -> list[_StorageRef]:
    if not isinstance(root, dict):
        raise ModelError(f"holds a {type(root).__name__}, not a state dict (a mapping of names to tensors)")
    refs = []
    for name, value in root.items():
        if not isinstance(name, str) or not isinstance(value, _TensorRef):
            raise ModelError(f"entry {name!r:.80} is not a tensor; expected a plain state dict")
        refs.append(value.storage)
    return refs


def _materialize(root: dict[str, _TensorRef], load: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, tensor in root.items():
        ref = tensor.storage
        data = load(ref.key)
        if ref.view:
            # `key` names the whole storage; the view is a slice of it, named only for memoization.
            _, start, count = ref.view
            data = data[start : start + count]
        if ref.storage_type.name == "BFloat16Storage":
            data = (data.astype(np.uint32) << 16).view(np.float32)
        out[name] = _strided_copy(name, data, tensor)
    return out


def _strided_copy(name: str, data: np.ndarray, tensor: _TensorRef) -> np.ndarray:
    # as_strided reads raw memory, so the extent of the view is checked against the storage first;
    # a hostile file could otherwise make us read past the buffer.
    extent = tensor.offset + sum(
        (n - 1) * s for n, s in zip(tensor.shape, tensor.stride, strict=True) if n > 0
    )
    if 0 not in tensor.shape and extent >= data.size:
        raise ModelError(f"tensor {name!r} reaches past the end of its storage; the file is corrupt")
    # Overlapping views (stride 0) never occur in a saved state dict but could expand a tiny file into
    # an enormous array.
    if int(np.prod(tensor.shape, dtype=np.float64)) > data.size:
        raise ModelError(f"tensor {name!r} has more elements than its storage; the file is corrupt")
    view = np.lib.stride_tricks.as_strided(
        data[tensor.offset :] if data.size else data,
        shape=tensor.shape,
        strides=tuple(s * data.itemsize for s in tensor.stride),
        writeable=False,
    )
    return np.array(view, dtype=view.dtype.newbyteorder("="), copy=True)
