"""Vectorised string formatting: identifiers, IPv4 addresses and timestamps.

Values stay numeric (uint64 / uint32 / int64) while the world is generated and become
strings only when a table is written, so a million identifiers cost megabytes, not
a million Python objects.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX_PAIRS = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def hex_ids(prefix: str, values: np.ndarray, digits: int = 12) -> pa.Array:
    """``prefix`` + the low ``digits`` hex digits of each uint64 (digits even, <= 16)."""
    raw = np.ascontiguousarray(values, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    text = _HEX_PAIRS[raw[:, 8 - digits // 2:]].reshape(len(values), -1).view(f"S{digits}").ravel()
    return pc.binary_join_element_wise(prefix, pa.array(text).cast(pa.string()), "")


def ip_strings(addresses: np.ndarray) -> pa.Array:
    """Dotted-quad strings for uint32 IPv4 addresses."""
    addresses = np.asarray(addresses, dtype=np.uint32)
    octets = [pc.cast(pa.array((addresses >> np.uint32(shift)) & np.uint32(255)), pa.string())
              for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def ip_to_int(dotted: str) -> int:
    a, b, c, d = (int(part) for part in dotted.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def iso_strings(epochs: np.ndarray) -> pa.Array:
    """ISO-8601 UTC strings with a ``Z`` suffix (the bundle contract) for epoch seconds."""
    text = pc.cast(pa.array(np.asarray(epochs, dtype="int64").astype("datetime64[s]")), pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), "Z", "")


def pick(names: list[str], index: np.ndarray) -> pa.Array:
    """names[index] as an Arrow string array (index may be any integer array)."""
    return pa.array(names, pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation; plain ``str`` parts are broadcast."""
    return pc.binary_join_element_wise(*parts, "")
