"""Text metrics for scene descriptions and justifications, and QA accuracy.

BLEU-4, METEOR, ROUGE-L and CIDEr(-D) come from `pycocoevalcap` (the MS-COCO caption evaluation
code, which DriveLM, OmniDrive and the VLA driving papers report with), so numbers are comparable
with published ones. Text is tokenised the way that package does it: the Stanford PTB tokenizer
jar it ships (lower-cased, punctuation dropped). METEOR is the Java METEOR 1.5 jar it ships. Both
need a `java` on PATH; without one, tokenisation falls back to a Python re-implementation of the
same rules (reported as `tokenizer: python-ptb`) and METEOR is reported as unavailable (None)
instead of crashing. Nothing is downloaded at run time (the jars and METEOR's paraphrase table
are inside the wheel).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import string
import subprocess
import tempfile
from typing import Sequence

LOG = logging.getLogger(__name__)

TEXT_METRICS = ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr")
# pycocoevalcap.tokenizer.ptbtokenizer.PUNCTUATIONS (the tokens it removes after tokenising).
PTB_PUNCTUATION = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                   ".", "?", "!", ",", ":", "-", "--", "...", ";"}
PTB_JAR = "stanford-corenlp-3.4.1.jar"
PTB_CLASS = "edu.stanford.nlp.process.PTBTokenizer"
_WORD = r"[a-z0-9]+(?:[-./][a-z0-9]+)*"
_TOKEN = re.compile(rf"{_WORD}(?=n't)|n't|'(?:s|re|ve|ll|d|m)\b|{_WORD}|\.\.\.|--|\S")
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "{": "-lcb-", "}": "-rcb-", "[": "-lsb-", "]": "-rsb-"}


def java_available() -> bool:
    return shutil.which("java") is not None


def python_tokenize(text: str) -> str:
    """PTB-like tokenisation in Python: lower-case, split clitics and punctuation, drop the
    punctuation the PTB wrapper drops. Matches the jar on ordinary sentences; abbreviations such
    as "u.s." lose their final period here."""
    tokens = (_BRACKETS.get(t, t) for t in _TOKEN.findall(text.replace("\n", " ").lower()))
    return " ".join(t for t in tokens if t not in PTB_PUNCTUATION and t != '"')


def java_tokenize(texts: Sequence[str]) -> list[str]:
    """The Stanford PTB tokenizer jar shipped in pycocoevalcap, exactly as its wrapper calls it.

    The wrapper writes its temporary file into the installed package; this writes it to a
    private temporary directory instead (same jar, same flags, same post-processing).
    """
    from pycocoevalcap.tokenizer import ptbtokenizer
    jar = os.path.join(os.path.dirname(os.path.abspath(ptbtokenizer.__file__)), PTB_JAR)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sentences.txt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(t.replace("\n", " ") for t in texts))
        out = subprocess.run(["java", "-cp", jar, PTB_CLASS, "-preserveLines", "-lowerCase", path],
                             capture_output=True, check=True, timeout=300)
    lines = out.stdout.decode("utf-8").split("\n")
    if len(lines) < len(texts):
        raise RuntimeError(f"PTB tokenizer returned {len(lines)} lines for {len(texts)} texts")
    return [" ".join(w for w in line.rstrip().split(" ") if w not in PTB_PUNCTUATION)
            for line in lines[: len(texts)]]


def tokenize(texts: Sequence[str]) -> tuple[list[str], str]:
    """Tokenised texts and the tokenizer's name (java-ptb, or python-ptb without Java)."""
    if java_available():
        try:
            return java_tokenize(texts), "java-ptb"
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            LOG.warning("Java PTB tokenizer failed (%s); using the Python tokenizer", exc)
    return [python_tokenize(t) for t in texts], "python-ptb"


def _meteor(gts: dict, res: dict) -> float | None:
    if not java_available():
        return None
    from pycocoevalcap.meteor.meteor import Meteor
    try:
        scorer = Meteor()
        score, _ = scorer.compute_score(gts, res)
    except (OSError, ValueError, BrokenPipeError) as exc:
        LOG.warning("METEOR unavailable: %s", exc)
        return None
    return float(score)


def caption_metrics(predictions: Sequence[str], references: Sequence[Sequence[str] | str]) -> dict:
    """Corpus BLEU-4, METEOR, ROUGE-L and CIDEr (0..1, CIDEr 0..10) of predictions vs references.

    Each prediction has one or more reference texts. Returns the scores, the sample count, the
    tokenizer used, and `unavailable` naming metrics that could not run here (value None).
    """
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if len(refs) != len(predictions):
        raise ValueError(f"{len(predictions)} predictions for {len(refs)} reference sets")
    if not predictions:
        return {**{m: None for m in TEXT_METRICS}, "samples": 0, "tokenizer": None,
                "unavailable": list(TEXT_METRICS)}
    flat = list(predictions) + [r for rs in refs for r in rs]
    tokens, tokenizer = tokenize(flat)
    res = {i: [tokens[i]] for i in range(len(predictions))}
    gts, pos = {}, len(predictions)
    for i, rs in enumerate(refs):
        gts[i] = tokens[pos: pos + len(rs)]
        pos += len(rs)
    with contextlib.redirect_stdout(io.StringIO()):  # BleuScorer prints its length statistics
        bleu, _ = Bleu(4).compute_score(gts, res)
    out = {"BLEU-4": float(bleu[3]), "METEOR": _meteor(gts, res),
           "ROUGE-L": float(Rouge().compute_score(gts, res)[0]),
           "CIDEr": float(Cider().compute_score(gts, res)[0])}
    out.update(samples=len(predictions), tokenizer=tokenizer,
               unavailable=[m for m in TEXT_METRICS if out[m] is None])
    return out


_ARTICLES = {"a", "an", "the"}


def normalise_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse spaces (SQuAD-style exact match)."""
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def answer_matches(predicted: str, expected: str) -> bool:
    """One QA answer against its reference: exact match after `normalise_answer`."""
    return normalise_answer(predicted) == normalise_answer(expected)


def qa_accuracy(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """Fraction of answers that match the expected answer after normalisation."""
    if len(predicted) != len(expected):
        raise ValueError(f"{len(predicted)} answers for {len(expected)} questions")
    if not expected:
        return float("nan")
    hits = sum(answer_matches(p, e) for p, e in zip(predicted, expected))
    return hits / len(expected)
