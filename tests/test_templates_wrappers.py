"""Wrapper-template mining (loaders/templates.py): a fixed instruction around a varying payload is one
template; paraphrased instructions join it; honest free-form prompts on common openers stay free text."""
from __future__ import annotations

import csv
import random

import duckdb
import pyarrow as pa
import pytest

from loaders.pipeline import LoadOptions, load
from loaders.templates import WrapperRules, build_prompt_templates

VOCABULARY = ("river apple market theory protein climate engine ledger poem orbit tariff enzyme violin glacier "
              "harbor matrix neuron canyon bridge senate copper lantern quartz meadow falcon cipher atlas "
              "saffron tundra beacon").split()
WRAPPERS = [
    "You are a meticulous data labeler. Think step by step and answer: {} Return the answer as JSON.",
    "Act as an expert tutor and explain your reasoning in full detail before answering. Question: {}",
    "Solve the following task carefully, showing every intermediate step: {} Finish with FINAL ANSWER.",
]
PARAPHRASE = "You are a careful data labeler. Think step by step and answer: {} Return the answer as JSON."
OPENERS = ["how do i", "what is the", "can you help me", "write a", "explain why", "please summarize", "why does"]


def _task(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(8, 15)))


def _templates(prompts: list[str], rules: WrapperRules = WrapperRules()) -> tuple[dict[str, str], dict[str, str]]:
    """{prompt: template id} and {template id: sample} as the loader computes them."""
    conn = duckdb.connect()
    conn.register("raw", pa.table({"prompt": prompts}))
    conn.execute("CREATE TABLE raw_requests AS SELECT prompt FROM raw")
    conn.execute("CREATE TABLE valid_requests AS SELECT hash(prompt) AS prompt_hash, "
                 "NULL::VARCHAR AS prompt_fingerprint FROM raw_requests")
    build_prompt_templates(conn, 0.8, 200_000, rules)
    by_hash = dict(conn.execute("SELECT prompt_hash, template_id FROM prompt_templates").fetchall())
    ids = {p: by_hash[h] for p, h in conn.execute("SELECT prompt, hash(prompt) FROM raw_requests").fetchall()}
    return ids, dict(conn.execute("SELECT template_id, sample FROM template_samples").fetchall())


@pytest.mark.parametrize("seed", range(5))
def test_three_wrappers_are_three_templates_and_free_text_stays_free(seed):
    rng = random.Random(seed)
    wrapped = {w: [w.format(_task(rng)) for _ in range(rng.randint(40, 150))] for w in WRAPPERS}
    paraphrased = [PARAPHRASE.format(_task(rng)) for _ in range(40)]
    honest = [f"{rng.choice(OPENERS)} {_task(rng)}" for _ in range(3000)]
    ids, samples = _templates([p for ps in wrapped.values() for p in ps] + paraphrased + honest)

    families = {w: {ids[p] for p in ps} for w, ps in wrapped.items()}
    assert all(len(f) == 1 for f in families.values()), families
    assert len(set().union(*families.values())) == 3
    # the paraphrased instruction joins its family
    assert {ids[p] for p in paraphrased} == families[WRAPPERS[0]]
    # the analyst reads the instruction with the payload masked
    assert samples[next(iter(families[WRAPPERS[1]]))] == (
        "act as an expert tutor and explain your reasoning in full detail before answering. question: <*>")
    assert "<*>" in samples[next(iter(families[WRAPPERS[2]]))]
    # honest prompts: no template holds more than a handful of them
    honest_sizes = {}
    for p in honest:
        honest_sizes[ids[p]] = honest_sizes.get(ids[p], 0) + 1
    assert max(honest_sizes.values()) <= 3


def test_too_few_texts_or_too_short_an_instruction_is_not_a_wrapper():
    rng = random.Random(7)
    few = [WRAPPERS[0].format(_task(rng)) for _ in range(10)]           # 10 < 20 distinct texts
    short = [f"tell me: {_task(rng)} thanks" for _ in range(100)]       # 3 fixed words < 6
    ids, _ = _templates(few + short)
    assert len({ids[p] for p in few}) == len(few)
    assert len({ids[p] for p in short}) == len(short)
    # with the rules relaxed the same texts are wrappers: the rules, not chance, decide
    ids, _ = _templates(few + short, WrapperRules(min_texts=10, min_words=3))
    assert len({ids[p] for p in few}) == 1 and len({ids[p] for p in short}) == 1


def test_loaded_wrapper_template_links_the_accounts_that_send_it(empty_db, tmp_path):
    """End to end through `load`: 30 accounts wrapping their own tasks in one instruction send one template."""
    rng = random.Random(3)
    with (tmp_path / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "created_at"])
        for i in range(30):
            w.writerow([f"acc-{i}", "2026-04-01T00:00:00Z"])
    with (tmp_path / "requests.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "account_id", "prompt"])
        for i in range(30):
            for j in range(4):
                w.writerow([f"2026-04-02T{j:02d}:00:00Z", f"acc-{i}", WRAPPERS[2].format(_task(rng))])
    load([tmp_path], LoadOptions(progress=False, rejects_path=tmp_path / "rejects.csv"))
    rows = empty_db.execute_query(
        "MATCH (a:Account)-[s:SENT]->(t:PromptTemplate) RETURN t.sample AS sample, count(a) AS accounts, sum(s.n) AS n"
    ).records
    assert [(r["sample"], r["accounts"], r["n"]) for r in rows] == [
        ("solve the following task carefully, showing every intermediate step: <*> finish with final answer.", 30, 120)]
