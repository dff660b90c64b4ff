"""Prompts: capabilities, honest prompt mix, extraction template families and fingerprints.

``prompt_fingerprint`` imitates a 64-bit SimHash of the prompt with slot values removed:
  * every slot-filled instance of one template variant has the same fingerprint;
  * paraphrased variants of one template differ from the template's base fingerprint in
    1-6 of 64 bits (near-duplicates: small Hamming distance);
  * unrelated prompts (free text, other templates) differ in ~32 bits on average.
Honest users also share fingerprints: popular products (browser extensions, "summarise
this" buttons) send the same templates for thousands of unrelated accounts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .fmt import concat, pick

CAPABILITIES = ["chat", "writing", "coding", "summarization", "translation", "analysis", "math", "reasoning",
                "tool_use", "vision", "rubric_grading"]
CAP = {name: i for i, name in enumerate(CAPABILITIES)}
# Honest capability mix (share of requests): chat and coding dominate public usage reports;
# grading-style prompts are rare outside evaluation teams.
BENIGN_MIX = np.array([0.24, 0.14, 0.18, 0.10, 0.05, 0.08, 0.05, 0.05, 0.05, 0.04, 0.02])
# Personas: each honest account draws its own mix around BENIGN_MIX (Dirichlet, concentration 6),
# so accounts differ but none is as narrow as an extraction campaign.
PERSONAS = 64
PERSONA_CONCENTRATION = 6.0
# Narrow honest service accounts (high volume, 24/7): CI pipelines and agent products.
SERVICE_PERSONAS = {"ci": {"coding": 0.75, "tool_use": 0.15, "analysis": 0.10},
                    "agent": {"tool_use": 0.6, "reasoning": 0.2, "chat": 0.1, "coding": 0.1}}
# Popular product templates shared across unrelated honest accounts, Zipf-like popularity.
BENIGN_TEMPLATES = 400
BENIGN_TEMPLATE_SHARE = 0.3

# Extraction styles reported publicly: chain-of-thought elicitation, rubric grading, agentic
# tool use, coding, vision. (capability, canonical openers, instructions, subjects)
STYLES = {
    "cot_reasoning": ("reasoning",
                      ["Solve the following problem.", "Here is a problem for you.", "Consider this question.",
                       "Work through the task below.", "Answer the following."],
                      ["Think step by step and write out every intermediate step of your reasoning before the final answer.",
                       "Explain your full chain of reasoning, one numbered step at a time, then state the answer.",
                       "Before answering, reason through it carefully and show each step explicitly.",
                       "Lay out the complete reasoning path in detail and only then give the conclusion."],
                      ["a logic puzzle about", "a probability question about", "a planning problem involving",
                       "a causal reasoning question about", "a word problem about"]),
    "math_cot": ("math",
                 ["Solve this math problem.", "Compute the following.", "Here is a competition problem."],
                 ["Show every derivation step and justify each transformation.",
                  "Write the full solution with all intermediate algebra, then box the answer.",
                  "Reason step by step; do not skip any calculation."],
                 ["an integral of", "a geometry problem with", "a number theory claim about", "a recurrence for"]),
    "rubric_grading": ("rubric_grading",
                       ["You are a strict grader.", "Act as an expert evaluator.", "You are reviewing an answer."],
                       ["Score the response below from 1 to 10 against the rubric and explain each point of the score step by step.",
                        "Grade the answer on correctness, completeness and clarity, justifying every sub-score.",
                        "Compare the response to the rubric criteria one by one and give a final score with reasons."],
                       ["a student essay on", "a model answer about", "a support reply concerning", "a proof of"]),
    "agentic_tools": ("tool_use",
                      ["You are an autonomous agent with tools [search, python, browser].",
                       "You can call the functions listed below.", "Act as a tool-using assistant."],
                      ["Plan the steps, emit each tool call as JSON and explain why you chose it.",
                       "Think aloud about which tool to use next, call it, and reflect on the result.",
                       "Produce a full trajectory: thought, action, observation, until the task is done."],
                      ["a task to book", "a task to research", "a task to reconcile", "a task to debug"]),
    "coding": ("coding",
               ["Write production-quality code.", "Implement the following.", "You are a senior engineer."],
               ["Explain your design decisions step by step, then give complete, tested code.",
                "Reason about edge cases first, then write the implementation with unit tests.",
                "Describe the algorithm, its complexity, and provide the full implementation."],
               ["a Python function for", "a Rust module for", "a SQL query computing", "a TypeScript class for"]),
    "vision": ("vision",
               ["Look at the attached image.", "Describe the image carefully.", "Analyse this picture."],
               ["Reason step by step about every visible element before answering.",
                "List all objects, then explain your reasoning about the question in detail."],
               ["a chart showing", "a photo of", "a diagram of", "a screenshot of"]),
}
TOPICS = ["train schedules", "inventory levels", "a chess endgame", "rainfall data", "a bank ledger",
          "quarterly sales", "a delivery route", "prime numbers", "a recipe scaling", "exam timetables",
          "a supply chain", "network latency", "a tournament bracket", "a tax table", "traffic lights",
          "a seating plan", "solar panels", "a warehouse robot", "hospital shifts", "a library catalogue"]

# Honest free text: opener + capability-specific request + topic + closer.
OPENERS = ["", "hey, ", "Hi! ", "Quick question: ", "Please ", "Can you ", "I need help: ", "ok so ", "Could you "]
REQUESTS = {
    "chat": ["tell me what you think about", "chat with me about", "what's your opinion on", "any ideas for"],
    "writing": ["write a short email about", "draft a cover letter mentioning", "rewrite this paragraph on",
                "make this text friendlier:"],
    "coding": ["fix this bug in my script for", "why does my code crash when handling", "write a bash one-liner for",
               "explain this regex for"],
    "summarization": ["summarize this article about", "give me the key points of the report on",
                      "tl;dr of the meeting notes on"],
    "translation": ["translate into Spanish:", "how do you say this in German:", "translate to Japanese:"],
    "analysis": ["analyse this spreadsheet of", "what trends do you see in", "compare these two options for"],
    "math": ["how do I calculate", "check my homework on", "what's the formula for"],
    "reasoning": ["help me decide about", "what are the pros and cons of", "think through"],
    "tool_use": ["look up", "search the web for", "book a reminder about"],
    "vision": ["what is in this photo of", "read the text in this screenshot of", "describe this picture of"],
    "rubric_grading": ["grade my essay on", "give feedback on my draft about"],
}
CLOSERS = ["", "?", " thanks", " pls", ". Keep it short.", " - asap", ". Use bullet points.", " :)"]
# Popular products calling the API with fixed templates: "[product] phrase", phrase by capability.
PRODUCTS = [f"{a}{b}" for a in ("Quick", "Smart", "Daily", "Easy", "Bright")
            for b in ("Notes", "Mail", "Docs", "Tabs", "Code", "Sheets", "Chat", "Write", "Read", "Tasks")]
PRODUCT_PHRASES = {
    "chat": "Continue the conversation about", "writing": "Improve the writing of this text on",
    "coding": "Explain the selected code for", "summarization": "Summarize the current page about",
    "translation": "Translate the selection about", "analysis": "Explain this spreadsheet formula for",
    "math": "Solve the highlighted equation about", "reasoning": "Help me decide, given notes on",
    "tool_use": "Run the connected tools to look up", "vision": "Describe the attached image of",
    "rubric_grading": "Give feedback on this draft about",
}


SUBJECTS_PER_TEMPLATE = 4


@dataclass
class CampaignTemplates:
    """One campaign's template family: capability per template and fingerprint per (template, variant)."""

    capability: np.ndarray  # (templates,) capability index
    weight_cum: np.ndarray  # (templates,) cumulative choice probability
    fingerprint: np.ndarray  # (templates, variants) uint64
    text: list[str]  # templates * variants skeletons, row-major
    subjects: list[str]


class PromptBank:
    """Templates and fingerprints shared by the whole world, plus per-campaign families."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        personas = rng.dirichlet(BENIGN_MIX * PERSONA_CONCENTRATION * len(CAPABILITIES), PERSONAS)
        service = np.zeros((len(SERVICE_PERSONAS), len(CAPABILITIES)))
        for row, mix in enumerate(SERVICE_PERSONAS.values()):
            for name, share in mix.items():
                service[row, CAP[name]] = share
        self.persona_mix = np.vstack([personas, service])
        self.service_persona = {name: PERSONAS + i for i, name in enumerate(SERVICE_PERSONAS)}
        # Benign product templates, grouped by capability so a request picks within its capability.
        caps = np.sort(rng.choice(len(CAPABILITIES), BENIGN_TEMPLATES, p=BENIGN_MIX))
        self.template_cap_start = np.searchsorted(caps, np.arange(len(CAPABILITIES)))
        self.template_cap_count = np.bincount(caps, minlength=len(CAPABILITIES))
        self.template_fp = rng.integers(0, 2**63, BENIGN_TEMPLATES, dtype=np.uint64) * np.uint64(2)
        products = rng.integers(len(PRODUCTS), size=BENIGN_TEMPLATES)
        self.template_text = [f"[{PRODUCTS[p]}] {PRODUCT_PHRASES[CAPABILITIES[c]]}" for p, c in zip(products, caps)]

    def campaign_family(self, templates: int, paraphrases: int) -> CampaignTemplates:
        """A narrow family: ``templates`` styles from 1-2 focus areas, ``paraphrases`` variants each."""
        rng = self.rng
        styles = list(STYLES)
        focus = rng.choice(len(styles), size=min(templates, 2), replace=False)
        chosen = [styles[focus[i % len(focus)]] for i in range(templates)]
        base = rng.integers(0, 2**63, templates, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        masks = np.zeros((templates, paraphrases), dtype=np.uint64)
        for v in range(1, paraphrases):
            bits = rng.choice(64, size=(templates, 1 + (v - 1) % 6), replace=True)
            masks[:, v] = np.bitwise_or.reduce(np.uint64(1) << bits.astype(np.uint64), axis=1)
        text = []
        for t, style in enumerate(chosen):
            _, openers, instructions, _ = STYLES[style]
            for v in range(paraphrases):
                text.append(f"{openers[(t + v) % len(openers)]} {instructions[(t + v * 7) % len(instructions)]}"
                            f"{'' if v == 0 else f' [{v}]'} Task: ")
        weights = rng.dirichlet(np.full(templates, 2.0))
        return CampaignTemplates(
            capability=np.array([CAP[STYLES[s][0]] for s in chosen]),
            weight_cum=np.cumsum(weights),
            fingerprint=base[:, None] ^ masks,
            text=text,
            # The same number of subjects per template keeps slot lookup a single multiply.
            subjects=[STYLES[s][3][k % len(STYLES[s][3])] for s in chosen for k in range(SUBJECTS_PER_TEMPLATE)],
        )

    def benign(self, rng: np.random.Generator, persona: np.ndarray, with_text: bool, free_text_fingerprints: bool = True
               ) -> tuple[np.ndarray, np.ndarray, pa.Array | None]:
        """(capability, fingerprint, text) for honest requests made by accounts of ``persona``.

        ``free_text_fingerprints`` False: free-text requests get fingerprint 0 (written without one), only
        product templates keep theirs.
        """
        n = len(persona)
        cum = np.cumsum(self.persona_mix, axis=1)
        cap = (rng.random(n)[:, None] > cum[persona]).sum(axis=1).clip(0, len(CAPABILITIES) - 1)
        templated = (rng.random(n) < BENIGN_TEMPLATE_SHARE) & (self.template_cap_count[cap] > 0)
        # Zipf-like popularity inside a capability: u**3 favours the first templates.
        within = (rng.random(n) ** 3 * self.template_cap_count[cap]).astype(np.int64)
        template = np.where(templated, self.template_cap_start[cap] + within, 0)
        free_fp = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
        fingerprint = np.where(templated, self.template_fp[template], free_fp if free_text_fingerprints else 0)
        text = None
        if with_text:
            topic = pick(TOPICS, rng.integers(len(TOPICS), size=n))
            request_names = [r for name in CAPABILITIES for r in REQUESTS[name]]
            offsets = np.cumsum([0] + [len(REQUESTS[name]) for name in CAPABILITIES])
            counts = np.diff(offsets)
            request = offsets[cap] + (rng.random(n) * counts[cap]).astype(np.int64)
            free = concat(pick(OPENERS, rng.integers(len(OPENERS), size=n)), pick(request_names, request), " ",
                          topic, pick(CLOSERS, rng.integers(len(CLOSERS), size=n)))
            product = concat(pick(self.template_text, template), " ", topic)
            text = pa.array(np.where(templated, product.to_numpy(zero_copy_only=False),
                                     free.to_numpy(zero_copy_only=False)), pa.string())
        return cap, fingerprint, text

    @staticmethod
    def extraction(rng: np.random.Generator, family: CampaignTemplates, n: int, with_text: bool
                   ) -> tuple[np.ndarray, np.ndarray, pa.Array | None]:
        """(capability, fingerprint, text) for ``n`` extraction requests of one campaign.

        Text is the variant's skeleton plus slot-filled subject, topic and case number:
        the variation a fingerprint of the skeleton ignores.
        """
        template = np.searchsorted(family.weight_cum, rng.random(n) * family.weight_cum[-1], side="right")
        template = template.clip(0, len(family.capability) - 1)
        variants = family.fingerprint.shape[1]
        variant = rng.integers(variants, size=n)
        text = None
        if with_text:
            subject = template * SUBJECTS_PER_TEMPLATE + rng.integers(SUBJECTS_PER_TEMPLATE, size=n)
            case = pa.array(rng.integers(1, 100_000, size=n)).cast(pa.string())
            text = concat(pick(family.text, template * variants + variant), pick(family.subjects, subject), " ",
                          pick(TOPICS, rng.integers(len(TOPICS), size=n)), " (case ", case, ")")
        return family.capability[template], family.fingerprint[template, variant], text
