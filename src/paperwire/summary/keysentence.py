"""The key sentence of an abstract: the one sentence that best states what the paper did or
found, extracted (never written) without a language model.

Score of sentence ``i`` of ``n`` (``split_sentences`` of the abstract, so indices match the
stored "Title. Sentence" vectors, search/sentences.py):

    centrality  x  z_i       cosine of the sentence vector to the paper's vector, as a z-score
                             within the abstract (0 without vectors)
  + contribution x  cue_c    "we propose / present / introduce / develop", "in this paper",
                             "here we", "this study", ...: the paper says what it does
  + finding     x  cue_f     "we show / find / demonstrate", "our results", "these findings
                             suggest", a CONCLUSION(S)/FINDINGS label: what it found
  + first       x  [i = 0]   the first sentence is mostly background (negative weight)
  + last        x  [i = n-1]
  + background  x  cue_b     a BACKGROUND/OBJECTIVE/METHODS label (negative weight)

Sentences under ``MIN_WORDS`` words ("Methods.", a stray label) are never chosen unless every
sentence is that short. The weights were tuned on the SciFact train claims (tuning half) and
checked on the held-out half (bench/keysentence.py, docs/benchmarks.md). Without vectors (a
paper not embedded yet: a fresh import, the model still being prepared) the same formula runs
without the centrality term and with its own tuned weights (``RULE_WEIGHTS``): the ``rule``
method, told apart from ``vectors`` internally.

Invariants (pure functions, no I/O):
- ``pick`` returns None exactly when the abstract has no sentence; otherwise an index into
  ``split_sentences(abstract)`` and that sentence's text with a leading structured-abstract
  label ("CONCLUSIONS", "RESULTS:") removed; never an empty text.
- Vectors are used only when their count equals the number of sentences (a mismatch means
  they belong to another version of the abstract): the rule method is used instead.
- Ties go to the earlier sentence; the result does not depend on anything but the inputs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paperwire.markup.sentences import split_sentences

# Bumped whenever the features or weights change: stored key sentences of another version
# are recomputed by the backfill (summary/refresh.py).
SCORER_VERSION = "ks1"

MIN_WORDS = 6


@dataclass(frozen=True)
class Weights:
    centrality: float = 1.0
    contribution: float = 1.0
    finding: float = 1.0
    first: float = -1.0
    last: float = 0.0
    background: float = -1.0
    # The centrality reference: "paper" (the paper's own title+abstract vector) or "mean"
    # (the mean of its sentence vectors).
    reference: str = "paper"


# Both chosen by a grid search on the tuning half of SciFact train (bench/keysentence.py;
# figures on the held-out half in docs/benchmarks.md, "Key sentence"). With vectors:
DEFAULT_WEIGHTS = Weights(
    centrality=2.0,
    contribution=0.5,
    finding=2.0,
    first=0.0,
    last=0.0,
    background=0.0,
    reference="paper",
)
# Without vectors (the rule): the same weights with the centrality term dropped. A grid of
# its own on the tuning half preferred the first sentence (0.240 vs 0.149 hit rate), the
# held-out half the opposite (0.209 vs 0.253): indistinguishable at ~170 abstracts a half, so
# the rule keeps the cues, which name the contribution where a first sentence is mostly
# background (docs/benchmarks.md).
RULE_WEIGHTS = dataclasses.replace(DEFAULT_WEIGHTS, centrality=0.0)


@dataclass(frozen=True)
class KeySentence:
    index: int
    text: str
    method: str  # "vectors" (centrality + cues + position) or "rule" (cues + position)


_LABEL_WORDS = (
    "BACKGROUND|INTRODUCTION|CONTEXT|OBJECTIVES?|AIMS?|PURPOSE|GOALS?|RATIONALE|MOTIVATION|"
    "METHODS?|METHODOLOGY|DESIGN|SETTINGS?|PARTICIPANTS|PATIENTS|SUBJECTS|INTERVENTIONS?|"
    "MEASUREMENTS?|MAIN|OUTCOMES?|MEASURES?|PRINCIPAL|RESULTS?|FINDINGS|CONCLUSIONS?|"
    "INTERPRETATION|SIGNIFICANCE|IMPORTANCE|SUMMARY|ABSTRACT|MATERIALS|AND|EVIDENCE|"
    "SYNTHESIS|DATA|SOURCES|STUDY|SELECTION|EXTRACTION|LIMITATIONS|IMPLICATIONS|REVIEW"
)
# A structured-abstract label in capitals at the start of a sentence ("CONCLUSIONS Our
# findings ...", "METHODOLOGY/PRINCIPAL FINDINGS: We ..."), or a title-case one with a colon
# ("Conclusions: ..."). Acronyms starting a sentence ("HIV infection ...") are not labels:
# only the listed words are.
_LABEL = re.compile(
    rf"^(?P<label>(?:{_LABEL_WORDS})(?:\s*[/&,]\s*|\s+)?(?:(?:{_LABEL_WORDS})(?:\s*[/&,]\s*|\s+)?)*)"
    rf"(?::\s*|\s+(?=[A-Z0-9\"'(\[$]))"
    rf"|^(?P<tlabel>(?i:background|objectives?|aims?|purpose|methods?|results?|findings|"
    rf"conclusions?|interpretation|significance|motivation|context))\s*:\s+"
)
_FINDING_LABEL = re.compile(
    r"CONCLUSION|FINDINGS|INTERPRETATION|SIGNIFICANCE|RESULT", re.IGNORECASE
)
_BACKGROUND_LABEL = re.compile(
    r"BACKGROUND|INTRODUCTION|CONTEXT|OBJECTIVE|AIM|PURPOSE|GOAL|"
    r"RATIONALE|MOTIVATION|METHOD|DESIGN|SETTING|PARTICIPANT|"
    r"PATIENT|SUBJECT|MATERIAL",
    re.IGNORECASE,
)

# What the paper does: the sentence that announces the contribution.
CONTRIBUTION_CUES = re.compile(
    r"""\b(?:
    we\s+(?:here\s+)?(?:propose|present|introduce|develop|design|describe|report|build|
        construct|create|devise|establish|provide|release|contribute|formulate|derive|
        identify|uncover|reveal|characteri[sz]e|investigate|study|examine|explore|
        address|tackle|apply|use|leverage)
  | (?:this|our|the\s+present|the\s+current)\s+(?:paper|work|study|article|letter|
        report|approach|method|framework|model|system|analysis|investigation)
  | here,?\s+we | in\s+this\s+(?:paper|work|study|article|letter)
  | (?:is|are)\s+(?:proposed|presented|introduced|developed)
)\b""",
    re.IGNORECASE | re.VERBOSE,
)

# What the paper found: results and conclusions.
FINDING_CUES = re.compile(
    r"""\b(?:
    we\s+(?:also\s+|further\s+|then\s+)?(?:show|showed|shown|find|found|demonstrate|
        demonstrated|observe|observed|conclude|concluded|discover|discovered|prove|proved|
        achieve|achieved|obtain|obtained|confirm|confirmed|establish|established)
  | (?:our|these|the|this)\s+(?:results?|findings?|data|experiments?|observations?|
        analyses|analysis|evaluation|study)\s+(?:show|shows|showed|suggest|suggests|
        suggested|indicate|indicates|indicated|demonstrate|demonstrates|demonstrated|
        reveal|reveals|revealed|support|supports|provide|provides|establish|establishes|
        confirm|confirms|highlight|highlights|imply|implies)
  | (?:results?|findings?)\s+(?:show|suggest|indicate|demonstrate|reveal)
  | (?:outperforms?|state[-\s]of[-\s]the[-\s]art|significantly|in\s+conclusion|
        taken\s+together|collectively|together,\s+these)
)\b""",
    re.IGNORECASE | re.VERBOSE,
)


def strip_label(sentence: str) -> tuple[str, str | None]:
    """(sentence without a leading structured-abstract label, the label or None)."""
    m = _LABEL.match(sentence)
    if m is None:
        return sentence, None
    rest = sentence[m.end() :].strip()
    if not rest:  # the whole sentence is a label: keep it as it is
        return sentence, None
    label = (m.group("label") or m.group("tlabel") or "").strip()
    return rest, label


def cues(sentence: str) -> tuple[float, float, float]:
    """(contribution, finding, background) cue indicators (0 or 1) of one sentence."""
    body, label = strip_label(sentence)
    contribution = 1.0 if CONTRIBUTION_CUES.search(body) else 0.0
    finding = 1.0 if FINDING_CUES.search(body) else 0.0
    background = 0.0
    if label:
        if _FINDING_LABEL.search(label):
            finding = 1.0
        elif _BACKGROUND_LABEL.search(label):
            background = 1.0
    return contribution, finding, background


def centrality(
    vectors: np.ndarray, paper_vector: np.ndarray | None, reference: str = "paper"
) -> np.ndarray:
    """Cosine of each (unit) sentence vector to the reference, as a z-score within the
    abstract (all zeros when the spread is negligible or there is one sentence)."""
    vecs = np.asarray(vectors, dtype=np.float32)
    if reference == "mean" or paper_vector is None:
        ref = vecs.mean(axis=0)
    else:
        ref = np.asarray(paper_vector, dtype=np.float32).reshape(-1)
    ref = ref / max(float(np.linalg.norm(ref)), 1e-12)
    cos = vecs @ ref
    sd = float(cos.std())
    if len(cos) < 2 or sd < 1e-6:
        return np.zeros(len(cos), dtype=np.float32)
    return ((cos - cos.mean()) / sd).astype(np.float32)


def score_sentences(
    sentences: Sequence[str],
    vectors: np.ndarray | None = None,
    paper_vector: np.ndarray | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    rule_weights: Weights = RULE_WEIGHTS,
) -> tuple[list[float], str]:
    """(score per sentence, method): ``weights`` and method ``vectors`` when usable vectors
    were given, else ``rule_weights`` (its centrality term is 0) and method ``rule``."""
    n = len(sentences)
    usable = vectors is not None and len(vectors) == n and n > 0
    if not usable:
        weights = rule_weights
    z = (
        centrality(vectors, paper_vector, weights.reference)
        if usable and vectors is not None
        else np.zeros(n, dtype=np.float32)
    )
    scores = []
    for i, sentence in enumerate(sentences):
        c, f, b = cues(sentence)
        s = (
            (weights.centrality * float(z[i]) if usable else 0.0)
            + weights.contribution * c
            + weights.finding * f
            + weights.background * b
        )
        if i == 0:
            s += weights.first
        if i == n - 1 and n > 1:
            s += weights.last
        scores.append(s)
    return scores, ("vectors" if usable else "rule")


def pick_index(sentences: Sequence[str], scores: Sequence[float]) -> int | None:
    """The best-scoring sentence of at least MIN_WORDS words (any sentence when none is that
    long); ties to the earlier one."""
    if not sentences:
        return None
    eligible = [i for i, s in enumerate(sentences) if len(s.split()) >= MIN_WORDS]
    if not eligible:
        eligible = list(range(len(sentences)))
    return max(eligible, key=lambda i: (scores[i], -i))


def pick(
    abstract: str | None,
    vectors: np.ndarray | None = None,
    paper_vector: np.ndarray | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    rule_weights: Weights = RULE_WEIGHTS,
) -> KeySentence | None:
    """The key sentence of an abstract (see the module invariants)."""
    sentences = split_sentences(abstract)
    if not sentences:
        return None
    scores, method = score_sentences(sentences, vectors, paper_vector, weights, rule_weights)
    index = pick_index(sentences, scores)
    assert index is not None  # sentences is not empty
    text, _label = strip_label(sentences[index])
    return KeySentence(index, text, method)


__all__ = [
    "SCORER_VERSION",
    "MIN_WORDS",
    "Weights",
    "DEFAULT_WEIGHTS",
    "RULE_WEIGHTS",
    "KeySentence",
    "CONTRIBUTION_CUES",
    "FINDING_CUES",
    "strip_label",
    "cues",
    "centrality",
    "score_sentences",
    "pick_index",
    "pick",
]
