"""Prompt templates: group near-duplicate prompts so slot-filled variations share one template id.

Prompts are normalised in SQL (lower case, quoted strings and numbers masked, spaces
collapsed); the distinct normalised texts are then clustered with MinHash LSH on word
3-gram shingles. A cluster's id is a hash of its most frequent member, so the same input
always yields the same ids. A ``prompt_fingerprint`` in the input is used as the id as is.
"""
from __future__ import annotations

import hashlib

import duckdb
import pyarrow as pa
from datasketch import MinHash, MinHashLSH

NUM_PERM = 64
SAMPLE_CHARS = 300


def normalise_sql(column: str) -> str:
    """SQL expression for the normalised text of a prompt column."""
    text = f"lower({column})"
    text = rf"""regexp_replace({text}, '"[^"]*"|''[^'']*''|`[^`]*`', '<q>', 'g')"""
    text = rf"regexp_replace({text}, '[0-9]+([.,:/-][0-9]+)*', '<n>', 'g')"
    return rf"trim(regexp_replace({text}, '\s+', ' ', 'g'))"


def template_id(representative: str) -> str:
    return "t_" + hashlib.sha256(representative.encode("utf-8")).hexdigest()[:16]  # same as the SQL fallback below


def _shingles(text: str) -> list[bytes]:
    words = text.split(" ")
    if len(words) < 3:
        return [text.encode("utf-8")]
    return [" ".join(words[i : i + 3]).encode("utf-8") for i in range(len(words) - 2)]


def cluster(texts: list[str], threshold: float) -> dict[str, str]:
    """{text: template id} for texts ordered most frequent first; near-duplicates share the id."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    root: dict[int, int] = {}

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, text in enumerate(texts):
        signature = MinHash(num_perm=NUM_PERM)
        signature.update_batch(_shingles(text))
        root[i] = i
        for j in lsh.query(signature):
            a, b = find(i), find(j)
            if a != b:
                root[max(a, b)] = min(a, b)  # the earlier (more frequent) text stays the representative
        lsh.insert(i, signature)
    return {text: template_id(texts[find(i)]) for i, text in enumerate(texts)}


def build_prompt_templates(conn: duckdb.DuckDBPyConnection, threshold: float, max_texts: int) -> None:
    """Create ``prompt_templates(prompt_hash, template_id)`` and ``template_samples(template_id, sample)``.

    Valid requests carry only a hash of their prompt; the texts come from one pass over the
    distinct raw prompts, and each is weighted by how many valid requests sent it.
    """
    conn.execute(
        f"CREATE OR REPLACE TABLE prompt_norm AS SELECT c.prompt_hash, {normalise_sql('d.prompt')} AS norm, c.n "
        f"FROM (SELECT prompt_hash, count(*) AS n FROM valid_requests "
        f"      WHERE prompt_fingerprint IS NULL AND prompt_hash IS NOT NULL GROUP BY prompt_hash) c "
        f"JOIN (SELECT hash(prompt) AS prompt_hash, any_value(prompt) AS prompt FROM raw_requests "
        f"      WHERE prompt IS NOT NULL GROUP BY prompt) d USING (prompt_hash)")
    ranked = conn.execute(
        "SELECT norm FROM prompt_norm GROUP BY norm ORDER BY sum(n) DESC, norm LIMIT ?", [max_texts]).fetchall()
    texts = [row[0] for row in ranked]
    ids = cluster(texts, threshold)
    conn.register("clustered", pa.table({"norm": pa.array(texts, pa.string()),
                                         "template_id": pa.array([ids[t] for t in texts], pa.string())}))
    # norms beyond max_texts are their own template
    conn.execute(
        "CREATE OR REPLACE TABLE prompt_templates AS SELECT p.prompt_hash, p.norm, p.n, "
        "coalesce(c.template_id, 't_' || left(sha256(p.norm), 16)) AS template_id "
        "FROM prompt_norm p LEFT JOIN clustered c USING (norm)")
    conn.unregister("clustered")
    # the sample of a template is its most frequent normalised text
    conn.execute(
        f"CREATE OR REPLACE TABLE template_samples AS SELECT template_id, left(arg_max(norm, (n, norm)), {SAMPLE_CHARS}) AS sample "
        f"FROM (SELECT template_id, norm, sum(n) AS n FROM prompt_templates GROUP BY ALL) GROUP BY template_id")
