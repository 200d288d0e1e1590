"""Deterministic generator of a realistic arXiv-snapshot-format JSONL file of N papers.

Each line has the fields of the public arXiv metadata snapshot (id, submitter, authors, title,
comments, journal-ref, doi, report-no, categories, license, abstract, versions, update_date,
authors_parsed). Abstracts are 150-250 words drawn from a Zipf-distributed vocabulary whose head
is real scientific words (including some "seq"-prefixed ones, so searches for `seq` have
matches) and whose tail is pronounceable made-up words; 1-20 authors, sometimes with
affiliations; 1-3 categories from the real arXiv taxonomy; 1-3 versions; dates spread over
2008-2025. The same (n, seed) always gives the same bytes.

    python bench/synth.py 1000000 /tmp/pwbench/synth_1m.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys

import numpy as np

REAL_WORDS = """
the of and in to a we for is that with on by this are an as model from be which our
results data method using based show can these it paper approach new at two also study
learning network networks neural deep models training performance proposed problem
methods time field quantum system systems energy analysis large function algorithm
graph state states theory order high first non between different than present via
structure dynamics distribution framework both its such has magnetic phase light low
language vision image images transformer attention diffusion generation generative
inference bayesian stochastic gradient optimization convex sparse kernel matrix tensor
spectral manifold topology geometry lattice symmetry gauge field fields boson fermion
galaxy galaxies star stars stellar cosmic cosmological dark matter halo redshift survey
protein proteins cell cells gene genes genome genomic single expression tissue clinical
sequence sequences sequencing sequential seq2seq sequence-to-sequence subsequence
seqformer seqgan bioseq sequencer consequently consequence
robust causal estimation estimator regression classification clustering embedding
embeddings representation representations pretrained fine-tuning benchmark benchmarks
dataset datasets evaluation accuracy efficient scalable efficient latent variational
policy reinforcement agent agents reward planning control robot robotic navigation
entropy thermodynamic equilibrium temperature pressure density phonon photon electron
superconducting topological insulator spin coupling interaction interactions scattering
detector detectors collider hadron neutrino muon decay decays cross section measurement
equation equations solution solutions boundary nonlinear linear operator operators
prove proof theorem lemma conjecture bound bounds upper lower finite infinite group
algebra algebras category functor module modules ring rings prime number numbers
graph-based message passing node nodes edge edges community detection link prediction
recommendation retrieval search query queries document documents ranking relevance
speech audio music signal signals noise channel channels wireless communication
privacy security adversarial attack attacks defense federated distributed parallel
""".split()

SYLLABLES = (
    "ka ri to mu ne sa lo vi de pa ze qu ti ro fa mi lu xe bo ga ny sh or an el "
    "ix um ap th ch st pr tr gl"
).split()

FIRST = (
    "Alice Bob Carlos Dana Elena Feng Gustavo Hana Ivan Julia Kenji Laura Mohamed Nina "
    "Omar Priya Qing Rafael Sara Tomas Uma Victor Wei Xin Yusuf Zoe Anna Ben Chen David "
    "Emma Fatima Giulia Hiro Ines Jonas Kai Lena Marco Noor"
).split()
LAST = (
    "Smith Garcia Wang Li Zhang Müller Rossi Kim Nguyen Patel Silva Cohen Novak Ivanov "
    "Tanaka Suzuki Martin Bernard Dubois Jensen Larsen Kowalski Horvath Papadopoulos "
    "Yilmaz Haddad Okafor Mensah Schmidt Fischer Weber Costa Santos Lopez Chen Liu Yang "
    "Huang Zhao Wu"
).split()
AFFILIATIONS = (
    "MIT",
    "Stanford University",
    "University of Oxford",
    "ETH Zurich",
    "Tsinghua University",
    "Max Planck Institute for Physics",
    "CERN",
    "University of Tokyo",
    "EPFL",
    "Sorbonne Université",
    "Caltech",
    "University of Toronto",
    "Seoul National University",
    "IISc Bangalore",
    "Universidade de São Paulo",
    "Weizmann Institute of Science",
)

CATEGORIES = (
    "cs.AI cs.CL cs.CV cs.LG cs.IR cs.RO cs.CR cs.DS cs.NE cs.SE cs.DC cs.HC "
    "stat.ML stat.ME stat.TH math.CO math.PR math.AG math.NT math.OC math.AP "
    "math.DG math-ph physics.optics physics.flu-dyn physics.comp-ph "
    "quant-ph hep-th hep-ph hep-ex hep-lat gr-qc nucl-th astro-ph.GA astro-ph.CO "
    "astro-ph.SR astro-ph.HE cond-mat.mtrl-sci cond-mat.str-el cond-mat.stat-mech "
    "cond-mat.soft cond-mat.supr-con q-bio.GN q-bio.BM q-bio.NC q-fin.ST "
    "eess.SP eess.AS eess.IV econ.EM"
).split()
LICENSES = (
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by/4.0/",
    None,
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

VOCAB_SIZE = 30000
ZIPF_S = 1.07
CHUNK = 5000


def vocabulary(rng: random.Random) -> list[str]:
    words = list(dict.fromkeys(REAL_WORDS))
    seen = set(words)
    while len(words) < VOCAB_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.01:
            word = "seq" + word  # rare seq-prefixed terms in the long tail
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def rfc2822(when: dt.datetime) -> str:
    return (
        f"{DAYS[when.weekday()]}, {when.day} {MONTHS[when.month - 1]} {when.year} "
        f"{when:%H:%M:%S} GMT"
    )


def generate(n: int, out, seed: int = 42) -> None:
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    vocab = np.array(vocabulary(rng), dtype=object)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    cdf = np.cumsum(1.0 / ranks**ZIPF_S)
    cdf /= cdf[-1]
    start = dt.datetime(2008, 1, 1)
    span = (dt.datetime(2025, 12, 31) - start).total_seconds()
    # Papers come in date order like the snapshot, numbered within their month.
    offsets = sorted(rng.random() * span for _ in range(n))
    counters: dict[str, int] = {}
    written = 0
    while written < n:
        count = min(CHUNK, n - written)
        lengths = nprng.integers(150, 251, size=count)
        title_lengths = nprng.integers(5, 15, size=count)
        draws = np.searchsorted(cdf, nprng.random(int(lengths.sum() + title_lengths.sum())))
        words = vocab[draws]
        pos = 0
        lines = []
        for i in range(count):
            created = start + dt.timedelta(seconds=offsets[written + i])
            yymm = f"{created:%y%m}"
            counters[yymm] = counters.get(yymm, 0) + 1
            width = 4 if created.year < 2015 else 5  # arXiv went to 5 digits in 2015
            pid = f"{yymm}.{counters[yymm]:0{width}d}"
            tl = int(title_lengths[i])
            title_words = list(words[pos : pos + tl])
            pos += tl
            title = " ".join(title_words).capitalize()
            if rng.random() < 0.05:
                title += r" with $\mathcal{O}(n \log n)$ cost"
            al = int(lengths[i])
            abstract_words = list(words[pos : pos + al])
            pos += al
            abstract = _sentences(abstract_words, rng)
            n_auth = min(20, max(1, int(rng.paretovariate(1.3))))
            with_aff = rng.random() < 0.3
            parsed = []
            for _ in range(n_auth):
                entry = [
                    rng.choice(LAST),
                    rng.choice(FIRST)[0] + "." if rng.random() < 0.4 else rng.choice(FIRST),
                    "",
                ]
                if with_aff:
                    entry.append(rng.choice(AFFILIATIONS))
                parsed.append(entry)
            names = [f"{first} {last}" for last, first, *_ in parsed]
            authors = (", ".join(names[:-1]) + " and " + names[-1]) if len(names) > 1 else names[0]
            k = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
            categories = " ".join(dict.fromkeys(rng.choice(CATEGORIES) for _ in range(k)))
            n_versions = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            versions, when = [], created
            for v in range(1, n_versions + 1):
                versions.append({"version": f"v{v}", "created": rfc2822(when)})
                when += dt.timedelta(days=rng.randint(5, 400), seconds=rng.randint(0, 86399))
            record = {
                "id": pid,
                "submitter": names[0],
                "authors": authors,
                "title": title,
                "comments": f"{rng.randint(4, 40)} pages, {rng.randint(0, 12)} figures"
                if rng.random() < 0.6
                else None,
                "journal-ref": None,
                "doi": f"10.{rng.randint(1000, 9999)}/synth.{pid}" if rng.random() < 0.2 else None,
                "report-no": None,
                "categories": categories,
                "license": rng.choice(LICENSES),
                "abstract": "  " + abstract + "\n",
                "versions": versions,
                "update_date": f"{when - dt.timedelta(days=1):%Y-%m-%d}",
                "authors_parsed": parsed,
            }
            lines.append(json.dumps(record, ensure_ascii=True))
        out.write("\n".join(lines) + "\n")
        written += count


def _sentences(words: list[str], rng: random.Random) -> str:
    out, i = [], 0
    while i < len(words):
        n = rng.randint(12, 25)
        sentence = words[i : i + n]
        i += n
        sentence[0] = sentence[0].capitalize()
        out.append(" ".join(sentence) + ".")
    text = " ".join(out)
    # Hard-wrap at ~80 columns like the real snapshot does.
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > 79:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of papers")
    parser.add_argument("out", help="output path (- for stdout)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.out == "-":
        generate(args.n, sys.stdout, args.seed)
        return
    tmp = args.out + ".partial"
    with open(tmp, "w", encoding="utf-8") as fh:
        generate(args.n, fh, args.seed)
    import os

    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
