"""Template families: paraphrased variants of one prompt template, found by SimHash distance.

A ``prompt_fingerprint`` of the form ``sh_`` + 16 hex digits (or the 16 hex digits alone) is read as a 64-bit
SimHash of the prompt. Paraphrases of one template differ from each other in a few bits, unrelated prompts in
about 32, so fingerprints within ``max_bits`` of each other are one family (single linkage: variant A near B
near C is one family even when A and C are further apart). An operator who rotates 40 wordings of each
template splits its traffic into slivers of 0.4 % per fingerprint; per family it is one template again.

Pairs are found without comparing every pair (Manku, Jain and Das Sarma, WWW 2007): split the 64 bits into
``max_bits + 1`` blocks; two fingerprints within ``max_bits`` bits agree exactly on at least one block
(pigeonhole), so only fingerprints that share a block value are compared.

Each (:PromptTemplate) gets ``family`` = the smallest template id of its family (its own id when it has no
near-duplicate or its id is not a SimHash), written only where it changed.
"""
from __future__ import annotations

import re

import numpy as np

from graph import db

_SIMHASH = re.compile(r"^(?:sh_|0x)?([0-9a-fA-F]{16})$")
WRITE_BATCH = 10_000


def simhash(template_id: str) -> int | None:
    """The 64-bit value of a SimHash template id, or None when the id is not one."""
    match = _SIMHASH.match(template_id)
    return int(match.group(1), 16) if match else None


def near_pairs(fingerprints: np.ndarray, max_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of fingerprints that differ in at most ``max_bits`` bits."""
    n = len(fingerprints)
    if n < 2 or max_bits < 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    blocks = max_bits + 1
    bounds = np.linspace(0, 64, blocks + 1).astype(int)
    left, right = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        key = (fingerprints >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.argsort(key, kind="stable")
        key = key[order]
        offset = 1
        while offset < n:
            same = np.flatnonzero(key[offset:] == key[:-offset])
            if same.size == 0:
                break  # runs of equal keys are contiguous: no pair further apart either
            i, j = order[same], order[same + offset]
            close = np.bitwise_count(fingerprints[i] ^ fingerprints[j]) <= max_bits
            left.append(np.minimum(i, j)[close])
            right.append(np.maximum(i, j)[close])
            offset += 1
    if not left:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pairs = np.unique(np.stack([np.concatenate(left), np.concatenate(right)], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label per index: the smallest index of its component."""
    label = np.arange(n)
    while True:
        low = np.minimum(label[left], label[right])
        before = label.copy()
        np.minimum.at(label, left, low)
        np.minimum.at(label, right, low)
        label = label[label]  # pointer jumping
        if np.array_equal(label, before):
            return label


def families(template_ids: list[str], max_bits: int) -> dict[str, str]:
    """{template id: family id}; the family id is the smallest template id among its members."""
    ids = sorted(template_ids)
    family = {t: t for t in ids}
    hashed = [(t, v) for t in ids if (v := simhash(t)) is not None]
    if max_bits <= 0 or len(hashed) < 2:
        return family
    values = np.array([v for _, v in hashed], dtype=np.uint64)
    label = components(len(hashed), *near_pairs(values, max_bits))
    for (template_id, _), root in zip(hashed, label):
        family[template_id] = hashed[root][0]  # ids are sorted, so the root is the smallest id
    return family


def refresh(max_bits: int) -> dict[str, int]:
    """Set ``family`` on every PromptTemplate; returns counts of templates, families and changed nodes."""
    rows = db.run("detect/template_families")
    assigned = families([r["template_id"] for r in rows], max_bits)
    changed = [{"template_id": r["template_id"], "family": assigned[r["template_id"]]}
               for r in rows if r["family"] != assigned[r["template_id"]]]
    for start in range(0, len(changed), WRITE_BATCH):
        db.run("detect/set_template_families", rows=changed[start:start + WRITE_BATCH])
    return {"templates": len(rows), "families": len(set(assigned.values())), "changed": len(changed)}
