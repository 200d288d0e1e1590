"""The key-sentence scorer (summary/keysentence.py): pure functions, tables of real abstracts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.markup.sentences import split_sentences
from paperwire.summary.keysentence import (
    DEFAULT_WEIGHTS,
    MIN_WORDS,
    RULE_WEIGHTS,
    Weights,
    centrality,
    cues,
    pick,
    score_sentences,
    strip_label,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = [json.loads(line) for line in open(FIXTURES / "seed_papers.jsonl")]


def _seed(title_start: str) -> str:
    return next(r["abstract"] for r in SEED if r["title"].startswith(title_start))


# Real abstracts (the demo's seed papers) and the sentence the rule (no vectors) picks.
@pytest.mark.parametrize(
    "title, expected_start",
    [
        ("T-Miner", "We show that T-Miner detects Trojan and clean models"),
        ("scE$^2$TM", "Our comprehensive evaluation across 20 scRNA-seq datasets demonstrates"),
        ("seq-JEPA", "In this work, we proposes seq-JEPA, a world modeling framework"),
        ("White-Box Diffusion", "To overcome these limitations, we propose a hybrid model"),
        ("Seq vs Seq", "Like previous work, we find that encoder-only models excel"),
    ],
)
def test_rule_picks_the_contribution_or_finding_of_real_abstracts(title, expected_start):
    chosen = pick(_seed(title))
    assert chosen is not None and chosen.method == "rule"
    assert chosen.text.startswith(expected_start)
    assert chosen.text == split_sentences(_seed(title))[chosen.index]


@pytest.mark.parametrize(
    "sentence, body, label",
    [
        (
            "CONCLUSIONS Our findings provide clinical evidence.",
            "Our findings provide clinical evidence.",
            "CONCLUSIONS",
        ),
        (
            "METHODOLOGY/PRINCIPAL FINDINGS: We used mice.",
            "We used mice.",
            "METHODOLOGY/PRINCIPAL FINDINGS",
        ),
        (
            "MAIN OUTCOME MEASURES Survival at 5 years.",
            "Survival at 5 years.",
            "MAIN OUTCOME MEASURES",
        ),
        ("Conclusions: the drug works.", "the drug works.", "Conclusions"),
        ("HIV infection is common in the region.", "HIV infection is common in the region.", None),
        ("DNA repair fails in these cells.", "DNA repair fails in these cells.", None),
        ("RESULTS", "RESULTS", None),  # only a label: kept as it is
        ("Results show that it works.", "Results show that it works.", None),
    ],
)
def test_structured_abstract_labels_are_stripped_but_acronyms_are_not(sentence, body, label):
    assert strip_label(sentence) == (body, label)


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("We propose Mamba, a selective state space model.", (1.0, 0.0, 0.0)),
        ("In this paper, we study long contexts.", (1.0, 0.0, 0.0)),
        ("Here we report a new enzyme.", (1.0, 0.0, 0.0)),
        ("We show that the bound is tight.", (0.0, 1.0, 0.0)),
        ("These results suggest a role for IL-6.", (0.0, 1.0, 0.0)),
        ("Our method outperforms prior work.", (1.0, 1.0, 0.0)),
        ("CONCLUSIONS Aspirin lowers the risk.", (0.0, 1.0, 0.0)),
        ("BACKGROUND Aspirin is widely used.", (0.0, 0.0, 1.0)),
        ("Transformers dominate language modelling.", (0.0, 0.0, 0.0)),
    ],
)
def test_cues_table(sentence, expected):
    assert cues(sentence) == expected


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


ABSTRACT = (
    "Large language models are widely used in many applications today. "
    "They are expensive to run on long inputs of many tokens. "
    "A cheaper kind of attention layer makes long inputs affordable on small machines. "
    "Experiments were run on three public benchmarks of varied size."
)


def test_with_vectors_the_sentence_closest_to_the_paper_wins_without_cues():
    sents = split_sentences(ABSTRACT)
    assert len(sents) == 4
    paper = _unit([1, 0, 0, 0])
    vecs = np.stack(
        [_unit([0.2, 1, 0, 0]), _unit([0.3, 0, 1, 0]), _unit([1, 0.1, 0, 0]), _unit([0.1, 0, 0, 1])]
    )
    chosen = pick(ABSTRACT, vecs, paper)
    assert (chosen.index, chosen.method) == (2, "vectors")
    assert pick(ABSTRACT).method == "rule"


def test_vectors_of_another_version_of_the_abstract_are_not_used():
    vecs = np.stack([_unit([1, 0, 0, 0])] * 3)  # 3 vectors, 4 sentences
    assert pick(ABSTRACT, vecs, _unit([1, 0, 0, 0])).method == "rule"


@pytest.mark.parametrize("abstract", [None, "", "   ", "\n\t"])
def test_no_abstract_no_key_sentence(abstract):
    assert pick(abstract) is None
    assert pick(abstract, np.zeros((0, 4), dtype=np.float32), _unit([1, 0, 0, 0])) is None


def test_short_fragments_are_not_chosen_while_a_real_sentence_exists():
    abstract = "Methods. We show that the new solver is twice as fast as the old one."
    assert pick(abstract).text.startswith("We show")
    # A cue-heavy but short piece loses to a long plain sentence.
    abstract = "We show it. The new solver is twice as fast as the old one on all inputs."
    assert len("We show it.".split()) < MIN_WORDS
    assert pick(abstract).index == 1


def test_ties_go_to_the_earlier_sentence():
    abstract = (
        "Plain sentence number one is here today. Plain sentence number two is here "
        "today. Plain sentence number three is here today."
    )
    assert pick(abstract, weights=Weights(first=0.0), rule_weights=Weights(first=0.0)).index == 0


def test_math_stays_whole_in_the_chosen_sentence():
    abstract = (
        "Background on $x.y$ spaces is given first of all here. We prove that "
        "$\\|f\\|_2 \\le 1$ for all bounded $f$ in the class."
    )
    assert (
        pick(abstract).text == "We prove that $\\|f\\|_2 \\le 1$ for all bounded $f$ in the class."
    )


def test_centrality_is_a_z_score_and_flat_when_there_is_no_spread():
    vecs = np.stack([_unit([1, 0]), _unit([1, 1]), _unit([0, 1])])
    z = centrality(vecs, _unit([1, 0]))
    assert abs(float(z.mean())) < 1e-6 and int(np.argmax(z)) == 0
    assert not centrality(np.stack([_unit([1, 0])] * 3), _unit([0, 1])).any()
    assert not centrality(vecs[:1], _unit([1, 0])).any()


def test_rule_weights_have_no_centrality_and_vectors_weights_do():
    assert RULE_WEIGHTS.centrality == 0 and DEFAULT_WEIGHTS.centrality > 0
    sents = split_sentences(ABSTRACT)
    _scores, method = score_sentences(sents)
    assert method == "rule"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60), max_size=12
    ).map(". ".join),
    st.booleans(),
)
def test_any_text_gives_a_sentence_of_it_or_nothing(text, with_vectors):
    sents = split_sentences(text)
    vecs = paper = None
    if with_vectors and sents:
        rng = np.random.default_rng(len(text))
        vecs = rng.normal(size=(len(sents), 8)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        paper = _unit(rng.normal(size=8))
    chosen = pick(text, vecs, paper)
    if not sents:
        assert chosen is None
        return
    assert 0 <= chosen.index < len(sents) and chosen.text
    assert chosen.text in sents[chosen.index]
    assert chosen == pick(text, vecs, paper)  # deterministic
