"""Prompt templates: group near-duplicate prompts so slot-filled variations share one template id.

Prompts are normalised in SQL (lower case, quoted strings and numbers masked, spaces
collapsed); the distinct normalised texts are then clustered with MinHash LSH on word
3-gram shingles. A cluster's id is a hash of its most frequent member, so the same input
always yields the same ids. A ``prompt_fingerprint`` in the input is used as the id as is.

Wrapper templates. Distillation prompts are mostly a fixed instruction around a varying payload
("You are a grader. Think step by step: <task>. Return JSON."): two instances share the
instruction but not the task, so whole-text similarity misses them. Their *skeleton* is mined
from how the distinct texts branch (``wrapper_skeletons``): walking a text's words from the start,
the fixed part goes on while enough distinct texts share the prefix and the next word is one of a
few wording choices; it ends where the continuation fans out into many different words (the
payload). The same is done from the end. A text whose fixed prefix and suffix together reach
``min_words`` words, shared by at least ``min_texts`` distinct texts, belongs to the skeleton
``prefix <*> suffix``; skeletons are then clustered with MinHash like texts (paraphrased wrappers
join one family). Honest free-form prompts share short openers ("how do i", "what is the") whose
continuations fan out at once, so they do not collapse into a few giant templates.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from datasketch import MinHash, MinHashLSH

from graph.config import setting

NUM_PERM = 64
SAMPLE_CHARS = 300
# words of a prompt's start (and end) examined for a wrapper; longer instructions are identified by these
WRAPPER_MAX_WORDS = 24


@dataclass(frozen=True)
class WrapperRules:
    """How wrapper skeletons are mined (settings LINKWATCH_LOAD_WRAPPER_*; docs/data-format.md)."""
    min_texts: int = 20       # distinct texts that must share a skeleton (and every fixed prefix/suffix step)
    min_words: int = 6        # fixed words (prefix + suffix) a skeleton needs
    payload_branching: float = 8.0  # effective number of next words at which the payload begins
    jaccard: float = 0.5      # skeletons at least this similar (word 3-grams) are one family

    @classmethod
    def from_settings(cls) -> "WrapperRules":
        return cls(min_texts=int(setting("LINKWATCH_LOAD_WRAPPER_MIN_TEXTS")),
                   min_words=int(setting("LINKWATCH_LOAD_WRAPPER_MIN_WORDS")),
                   payload_branching=float(setting("LINKWATCH_LOAD_WRAPPER_BRANCHING")),
                   jaccard=float(setting("LINKWATCH_LOAD_WRAPPER_JACCARD")))


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


def _fixed_ends(conn: duckdb.DuckDBPyConnection, rules: WrapperRules, reverse: bool) -> None:
    """``wrapper_{pre|suf}(norm, k)``: how many words at the start (or end) of each text are fixed.

    Along each text's own path of prefixes: step k -> k+1 is taken while at least ``min_texts`` distinct
    texts share the longer prefix and the texts sharing the prefix of k words continue with fewer than
    ``payload_branching`` effective next words (exp of the entropy of the next word).
    """
    side, words = ("suf", "list_reverse(w)") if reverse else ("pre", "w")
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE wrapper_paths AS
        SELECT norm, k, hash(list_slice({words}, 1, k)) AS node, {words}[k + 1] AS next
        FROM (SELECT norm, w, unnest(range(1, least(len(w), {WRAPPER_MAX_WORDS + 1}))) AS k FROM wrapper_words)""")
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE wrapper_nodes AS
        WITH edges AS (SELECT k, node, next, count(*) AS c FROM wrapper_paths GROUP BY ALL),
             nodes AS (SELECT k, node, sum(c) AS support,
                              exp(-sum((c / s) * ln(c / s))) AS branching
                       FROM (SELECT *, sum(c) OVER (PARTITION BY k, node) AS s FROM edges) GROUP BY k, node)
        SELECT * FROM nodes""")
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE wrapper_{side}_steps AS
        WITH steps AS (
          SELECT p.norm, p.k, n.support >= $min_texts AND n.branching < $branching AS open, n.support >= $min_texts AS held
          FROM wrapper_paths p JOIN wrapper_nodes n USING (k, node))
        SELECT norm, coalesce(min(k) FILTER (WHERE NOT open), max(k) + 1) - 1 AS upto_open,
               coalesce(min(k) FILTER (WHERE NOT held), max(k) + 1) - 1 AS upto_held
        FROM steps GROUP BY norm""", {"min_texts": rules.min_texts, "branching": rules.payload_branching})
    # the fixed part ends at the node where the payload fans out (that node's words are still fixed), or
    # before the first node too few texts share
    conn.execute(f"CREATE OR REPLACE TEMP TABLE wrapper_{side} AS "
                 f"SELECT norm, least(upto_open + 1, upto_held) AS k FROM wrapper_{side}_steps")


def wrapper_skeletons(conn: duckdb.DuckDBPyConnection, rules: WrapperRules) -> None:
    """``wrapper_skeleton(norm, skeleton)`` for the texts of ``wrapper_texts(norm)`` that are a fixed
    instruction around a varying payload (see the module docstring)."""
    conn.execute("CREATE OR REPLACE TEMP TABLE wrapper_words AS "
                 "SELECT norm, string_split(norm, ' ') AS w FROM wrapper_texts")
    _fixed_ends(conn, rules, reverse=False)
    _fixed_ends(conn, rules, reverse=True)
    # candidates, most fixed words first: prefix and suffix, prefix alone, suffix alone (a payload word that
    # happens to start or end many texts is not part of the instruction: its skeleton is shared by too few)
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE wrapper_candidates AS
        WITH ends AS (
          SELECT w.norm, w.w, p.k AS kp, least(s.k, greatest(len(w.w) - 1 - p.k, 0)) AS ks
          FROM wrapper_words w JOIN wrapper_pre p USING (norm) JOIN wrapper_suf s USING (norm)),
        shapes AS (
          SELECT norm, w, kp, ks, 0 AS preference FROM ends
          UNION ALL SELECT norm, w, kp, 0, 1 FROM ends WHERE ks > 0
          UNION ALL SELECT norm, w, 0, ks, 2 FROM ends WHERE kp > 0 AND ks > 0)
        SELECT norm, preference,
               trim(array_to_string(list_slice(w, 1, kp), ' ') || ' <*> ' ||
                    array_to_string(list_slice(w, len(w) - ks + 1, len(w)), ' ')) AS skeleton
        FROM shapes WHERE kp + ks >= $min_words AND kp + ks < len(w)""", {"min_words": rules.min_words})
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE wrapper_skeleton AS
        SELECT norm, arg_min(skeleton, preference) AS skeleton
        FROM (SELECT * FROM wrapper_candidates QUALIFY count(*) OVER (PARTITION BY skeleton) >= $min_texts)
        GROUP BY norm""", {"min_texts": rules.min_texts})


def build_prompt_templates(conn: duckdb.DuckDBPyConnection, threshold: float, max_texts: int,
                           wrappers: WrapperRules | None = None) -> None:
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
    # wrapper skeletons take precedence: the texts of one instruction around different payloads are one template
    conn.register("ranked_texts", pa.table({"norm": pa.array(texts, pa.string())}))
    conn.execute("CREATE OR REPLACE TEMP TABLE wrapper_texts AS SELECT norm FROM ranked_texts")
    conn.unregister("ranked_texts")
    wrappers = wrappers or WrapperRules.from_settings()
    wrapper_skeletons(conn, wrappers)
    skeleton_of = dict(conn.execute(
        "SELECT norm, skeleton FROM wrapper_skeleton").fetchall())
    skeletons = [row[0] for row in conn.execute(
        "SELECT skeleton FROM wrapper_skeleton GROUP BY skeleton ORDER BY count(*) DESC, skeleton").fetchall()]
    families = cluster(skeletons, wrappers.jaccard)
    for text, skeleton in skeleton_of.items():
        ids[text] = families[skeleton]
    conn.register("clustered", pa.table({"norm": pa.array(texts, pa.string()),
                                         "template_id": pa.array([ids[t] for t in texts], pa.string())}))
    conn.register("skeleton_samples", pa.table({
        "template_id": pa.array([families[k] for k in skeletons], pa.string()),
        "skeleton": pa.array(skeletons, pa.string()), "ord": pa.array(range(len(skeletons)), pa.int64())}))
    # norms beyond max_texts are their own template
    conn.execute(
        "CREATE OR REPLACE TABLE prompt_templates AS SELECT p.prompt_hash, p.norm, p.n, "
        "coalesce(c.template_id, 't_' || left(sha256(p.norm), 16)) AS template_id "
        "FROM prompt_norm p LEFT JOIN clustered c USING (norm)")
    conn.unregister("clustered")
    # the sample of a template is its most frequent normalised text; a wrapper's is its most common skeleton
    conn.execute(
        f"CREATE OR REPLACE TABLE template_samples AS "
        f"SELECT t.template_id, left(coalesce(k.skeleton, t.sample), {SAMPLE_CHARS}) AS sample FROM ("
        f"  SELECT template_id, arg_max(norm, (n, norm)) AS sample "
        f"  FROM (SELECT template_id, norm, sum(n) AS n FROM prompt_templates GROUP BY ALL) GROUP BY template_id) t "
        f"LEFT JOIN (SELECT template_id, arg_min(skeleton, ord) AS skeleton FROM skeleton_samples GROUP BY template_id) k "
        f"USING (template_id)")
    conn.unregister("skeleton_samples")
