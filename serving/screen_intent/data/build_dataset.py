"""Build ``screen_intent.jsonl``: the training data of the screen-intent tool router.

The router answers, for each user turn: should the client take exactly one screenshot of the
user's screen right now (1) or not (0)? The labelling policy is ``../POLICY.md`` (rules
yes-1..yes-4, no-1..no-12); every row names the rule that decides it.

All phrase material lives in data files under ``training/`` next to this script; this code only
combines it (see ``README.md``):

- ``training/slots.json``: shared word lists, used in patterns as ``{@NAME}``.
- ``training/styles.json``: surface styles (fillers, emoji, typos/ASR errors, shouting, lowercase)
  applied to both labels alike, so that style never predicts the label.
- ``training/lines/*.txt``: single-line families. ``## family-id cap=N`` starts a family; each
  following line is ``RULE  pattern``. A family whose lines carry both labels is a family of
  minimal pairs (kind ``pair``): one instance binds each ``{@SLOT}`` once and resolves the
  ``{a|b}`` alternations of every line with the same random draws, so the yes line and its no
  twins differ only where the patterns differ.
- ``training/conversations/common.json`` and ``training/conversations/scenes/*.json``: the pools
  that long conversations (10-20 user lines) are composed from: scene openers, on-device
  reactions, new-item lines, follow-up questions about what was just captured, story lines, and
  generic interjections (negations, counts, camera requests, other languages, idioms, ...).

Seeded and deterministic: re-running reproduces the jsonl byte for byte.

Usage: ``python3 serving/screen_intent/data/build_dataset.py [--out PATH] [--check]``
(``--check`` writes nothing and exits 1 when the file differs from what the script builds).
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20250917
DEV_FRACTION = 0.10
HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "training"
OUT_PATH = HERE / "screen_intent.jsonl"

YES_RULES = ("yes-1", "yes-2", "yes-3", "yes-4")
NO_RULES = (*(f"no-{i}" for i in range(1, 13)), "no-general", "no-followup")
RULES = YES_RULES + NO_RULES
KINDS = ("single", "pair", "conversation", "handwritten", "composed")
#: Rules whose lines keep their label whatever came before (policy: an explicit request, a
#: negation, a count, a tense, a camera, ... decide by themselves); their single lines are also
#: placed after the contexts of conversations ("composed" rows), so that the model learns that
#: context changes only the context-dependent lines (yes-3/yes-4 reactions, no-4, no-7).
CONTEXT_FREE_RULES = frozenset(
    {"yes-1", "yes-2"} | {f"no-{i}" for i in (1, 2, 3, 5, 6, 8, 9, 10, 11, 12)} | {"no-general"}
)
N_COMPOSED = 1200

# Conversations: how many of each mode, and their length in user lines.
N_CONVERSATIONS = {"device": 110, "story": 25, "mixed": 35}
CONV_LINES = (10, 20)
DEFAULT_CAP = 8


def label_of(rule: str) -> int:
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    return 1 if rule.startswith("yes-") else 0


# --------------------------------------------------------------------------------------------
# Patterns: {a|b|c} alternations (nestable), {@SLOT} shared word lists
# --------------------------------------------------------------------------------------------
_INNER = re.compile(r"\{([^{}]*)\}")


class Resolver:
    """Resolves one instance: slots are bound once per instance, and every line resolves its
    alternations with the same sequence of draws (so parallel patterns stay parallel)."""

    def __init__(self, slots: dict[str, list[str]], seed: int) -> None:
        self.slots = slots
        self.seed = seed
        self.bound: dict[str, str] = {}
        self.bind_rng = random.Random(seed * 7919 + 13)

    def slot(self, name: str) -> str:
        if name not in self.bound:
            if name not in self.slots:
                raise KeyError(f"unknown slot {{@{name}}}")
            self.bound[name] = self.bind_rng.choice(self.slots[name])
        return self.bound[name]

    def __call__(self, pattern: str) -> str:
        draws = random.Random(self.seed)
        s = pattern
        for _ in range(200):
            m = _INNER.search(s)
            if not m:
                break
            body = m.group(1)
            if body.startswith("@") and "|" not in body:
                rep = self.slot(body[1:])
            else:
                opts = body.split("|")
                rep = opts[min(int(draws.random() * len(opts)), len(opts) - 1)]
                if rep.startswith("@"):  # {@SLOT|word}: a slot as one of the options
                    rep = self.slot(rep[1:])
            s = s[: m.start()] + rep + s[m.end() :]
        else:
            raise ValueError(f"pattern does not terminate: {pattern!r}")
        s = re.sub(r"\s+", " ", s).strip()
        s = re.sub(r"\s+([,?!.])", r"\1", s)
        return s


def normalize(s: str) -> str:
    s = s.lower().replace("\u2019", "'")
    s = re.sub(r"[^\w' ]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _load_reserved() -> frozenset[str]:
    path = DATA_DIR / "policy_example_hashes.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


RESERVED = _load_reserved()

# Decontamination: the SHA-1 of every line of the independent evaluation sets (data/eval) that a
# training line must not equal. Only these hashes are read here, never the sets themselves; a
# unit test checks that the file matches the sets (refresh with --refresh-eval-hashes).
EVAL_DIR = HERE / "eval"
EVAL_HASHES_PATH = DATA_DIR / "eval_line_hashes.txt"
#: Conversation steps shorter than this ("ok", "lol what") are everyday words, not a leak.
EVAL_MIN_WORDS = 4


def strict_key(s: str) -> str:
    """Letters and digits only, lowercased: the form under which two lines count as the same."""
    return " ".join("".join(ch for ch in s.lower() if ch.isalnum() or ch.isspace()).split())


def line_hash(s: str) -> str:
    return hashlib.sha1(strict_key(s).encode()).hexdigest()


def eval_line_hashes() -> list[str]:
    """The hashes of the evaluation sets' lines (run only by --refresh-eval-hashes and tests)."""
    lines: set[str] = set()
    for path in sorted(EVAL_DIR.glob("probes_*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                row = json.loads(raw)
                lines.add(row["text"])
                lines.update(c["text"] if isinstance(c, dict) else c for c in row["context"])
    for path in sorted(EVAL_DIR.glob("conversations_*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                for step in json.loads(raw)["steps"]:
                    if len(strict_key(step["text"]).split()) >= EVAL_MIN_WORDS:
                        lines.add(step["text"])
    return sorted({line_hash(line) for line in lines if strict_key(line)})


def _load_eval_hashes() -> frozenset[str]:
    if not EVAL_HASHES_PATH.exists():
        return frozenset()
    lines = EVAL_HASHES_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


EVAL_HASHES = _load_eval_hashes()


def is_reserved(text: str) -> bool:
    """True if the line is (after normalising) one of the policy's example sentences or a line
    of the evaluation sets."""
    if line_hash(text) in EVAL_HASHES:
        return True
    return hashlib.sha1(normalize(text).encode()).hexdigest() in RESERVED


# --------------------------------------------------------------------------------------------
# Styles (applied per instance, same style to every line of the instance, both labels alike)
# --------------------------------------------------------------------------------------------
class Styler:
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.typos = [
            (re.compile(r"(?<![\w'])" + re.escape(k) + r"(?![\w'])", re.I), v)
            for k, v in spec["typos"].items()
        ]

    def pick(self, rng: random.Random) -> dict:
        """Choose a style for one instance (plain most of the time)."""
        weights = self.spec["weights"]
        name = rng.choices(list(weights), weights=list(weights.values()))[0]
        style = {"name": name, "seed": rng.randrange(1 << 30)}
        return style

    def apply(self, style: dict, text: str) -> str:
        name = style["name"]
        rng = random.Random(style["seed"])
        if name == "plain":
            return text
        if name == "filler":
            first = normalize(text).split(" ")[0] if text else ""
            if first in self.spec["no_filler_before"]:
                return text
            return rng.choice(self.spec["fillers"]) + text
        if name == "tail":  # before the final ? or !, if any
            m = re.match(r"^(.*?)([?!.]*)$", text, re.S)
            assert m is not None  # the pattern matches any text
            return m.group(1) + rng.choice(self.spec["tails"]) + m.group(2).replace(".", "")
        if name == "emoji":
            e = rng.choice(self.spec["emoji"])
            return e + " " + text if rng.random() < 0.2 else text + " " + e
        if name == "shout":
            return text.upper() + rng.choice(["", "!!", "!!!", ""])
        if name == "asr":
            s = re.sub(r"[^\w' ]+", " ", text.lower())
            if rng.random() < 0.5:
                s = s.replace("'", "")
            return re.sub(r"\s+", " ", s).strip()
        if name == "typo":
            s = text
            hits = [(rx, v) for rx, v in self.typos if rx.search(s)]
            rng.shuffle(hits)
            for rx, variants in hits[: rng.choice((1, 1, 2))]:
                rep: str = rng.choice(variants)

                def swap(m: re.Match[str], rep: str = rep) -> str:
                    return rep.upper() if m.group(0).isupper() else rep

                s = rx.sub(swap, s, count=1)
            if s == text:  # nothing to mistype: drop the final punctuation and lowercase instead
                s = text.lower().rstrip("?.!")
            return s
        raise ValueError(name)


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------
@dataclass
class Row:
    context: list[str]
    captured: list[bool]
    text: str
    rule: str
    kind: str
    group: str
    label: int = field(init=False)

    def __post_init__(self) -> None:
        self.label = label_of(self.rule)

    def key(self) -> str:
        return (
            " || ".join(normalize(c) or c for c in self.context)
            + " >> "
            + (normalize(self.text) or self.text)
        )


@dataclass
class Family:
    fid: str
    cap: int
    lines: list[tuple[str, str]]  # (rule, pattern)


def load_families(path: Path) -> list[Family]:
    fams: list[Family] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("##")):
            continue
        if line.startswith("##"):
            parts = line[2:].split()
            cap = DEFAULT_CAP
            for p in parts[1:]:
                if p.startswith("cap="):
                    cap = int(p[4:])
            fams.append(Family(parts[0], cap, []))
            continue
        rule, _, pattern = line.partition(" ")
        if not fams:
            raise ValueError(f"{path}:{lineno}: line before the first '## family'")
        label_of(rule)  # validates
        fams[-1].lines.append((rule, pattern.strip()))
    return fams


def build_lines(slots: dict, styler: Styler, rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    fids: set[str] = set()
    for path in sorted((DATA_DIR / "lines").glob("*.txt")):
        for fam in load_families(path):
            if fam.fid in fids:
                raise ValueError(f"duplicate family id {fam.fid}")
            fids.add(fam.fid)
            kind = "pair" if len({label_of(r) for r, _ in fam.lines}) == 2 else "single"
            for _ in range(fam.cap):
                res = Resolver(slots, rng.randrange(1 << 30))
                style = styler.pick(rng)
                for rule, pattern in fam.lines:
                    text = styler.apply(style, res(pattern))
                    if not is_reserved(text):
                        rows.append(Row([], [], text, rule, kind, fam.fid))
    return rows


# --------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------
def step_rows(
    lines: list[tuple[str, str]],
    kind: str,
    group: str,
    skip: Callable[[str], bool] = lambda text: False,
) -> list[Row]:
    """One row per step of a conversation ``(text, rule)``: its earlier lines as context, each
    marked captured where its rule is a yes."""
    out = []
    for i, (text, rule) in enumerate(lines):
        if not skip(text):
            ctx = [t for t, _ in lines[:i]]
            cap = [label_of(r) == 1 for _, r in lines[:i]]
            out.append(Row(ctx, cap, text, rule, kind, group))
    return out


class Conversation:
    """Accumulates the user lines of one conversation and emits one row per line."""

    def __init__(self, gid: str, res: Resolver, styler: Styler, rng: random.Random) -> None:
        self.gid, self.res, self.styler, self.rng = gid, res, styler, rng
        self.lines: list[tuple[str, str]] = []  # (text, rule)
        self.used: set[str] = set()

    def add(self, pool: list, rule: str | None = None) -> bool:
        """Add one line from ``pool`` (entries are patterns or [rule, pattern])."""
        for _ in range(12):
            entry = self.rng.choice(pool)
            r, pattern = entry if isinstance(entry, list) else (rule, entry)
            assert r is not None, pattern
            res = Resolver(self.res.slots, self.rng.randrange(1 << 30))
            res.bound = self.res.bound  # scene bindings are shared across the conversation
            res.bind_rng = self.res.bind_rng
            text = res(pattern)
            if self.rng.random() < 0.22:
                text = self.styler.apply(self.styler.pick(self.rng), text)
            key = normalize(text) or text  # emoji-only lines normalise to ""
            if not text or key in self.used or is_reserved(text):
                continue
            self.used.add(key)
            self.lines.append((text, r))
            return True
        return False

    @property
    def last_rule(self) -> str | None:
        return self.lines[-1][1] if self.lines else None

    def rows(self) -> list[Row]:
        return step_rows(self.lines, "conversation", self.gid)


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def device_steps(conv: Conversation, scene: dict, common: dict, n: int) -> None:
    """On-device segment: the user is looking at something on the screen now."""
    rng = conv.rng
    weights = common["device_weights"]
    target = len(conv.lines) + n
    while len(conv.lines) < target:
        last = conv.last_rule
        captured_last = last is not None and label_of(last) == 1
        after_followup = last == "no-followup"
        ev = _weighted(rng, weights)
        if last in ("no-3", "no-4") and ev == "reaction":
            continue  # a bare "omg" right after a remark about something absent is ambiguous
        if captured_last and ev in ("pointed", "scene_pointed"):
            ev = "followup"  # a pointed question right after a capture is about the same thing
        if ev == "followup" and not (captured_last or (after_followup and rng.random() < 0.4)):
            continue
        if ev == "followup":
            conv.add(scene["followups"], "no-followup")
        elif ev == "reaction":
            conv.add(scene["reactions"] + common["device_reactions"], "yes-4")
        elif ev == "scene_pointed":
            conv.add(scene["pointed"], "yes-3")
        elif ev == "pointed":
            conv.add(common["pointed"], "yes-3")
        elif ev == "new_item":
            if not any(label_of(r) == 1 for _, r in conv.lines):
                continue
            conv.add(scene["new_item"] + common["new_item"], "yes-4")
        elif ev == "general":
            conv.add(scene["general"], "no-general")
        elif ev == "ack":
            conv.add(common["acks"], "no-general")
        elif ev == "negate":
            if len(conv.lines) > target - 3:
                continue
            conv.add(common["negate"], "no-2")
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                conv.add(common["waiting"], "no-2")
            conv.add(common["permit"], "yes-1")
        elif ev == "scene_no":
            if scene.get("no"):
                conv.add(scene["no"])
        else:
            add_common(conv, common[ev])


def add_common(conv: Conversation, pool: dict | list) -> None:
    """Common pools are {"rule": ..., "lines": [...]} or lists of [rule, pattern]."""
    if isinstance(pool, dict):
        conv.add(pool["lines"], pool["rule"])
    else:
        conv.add(pool)


def story_steps(conv: Conversation, scene: dict, common: dict, n: int) -> None:
    """Story segment: the user tells about something absent or past; reactions are no."""
    rng = conv.rng
    weights = common["story_weights"]
    target = len(conv.lines) + n
    while len(conv.lines) < target:
        ev = _weighted(rng, weights)
        if ev == "story_line":
            conv.add(scene["story_lines"] + common["story_lines"], "no-3")
        elif ev == "story_reaction":
            conv.add(common["device_reactions"] + common["story_reactions"], "no-4")
        elif ev == "story_absent":
            conv.add(scene["story_absent"], "no-4")
        elif ev == "story_question":
            conv.add(common["story_questions"], "no-general")
        elif ev == "general":
            conv.add(scene["general"], "no-general")
        elif ev == "acks":
            conv.add(common["acks"], "no-general")
        else:
            add_common(conv, common[ev])


def build_conversations(slots: dict, styler: Styler, rng: random.Random) -> list[Row]:
    cdir = DATA_DIR / "conversations"
    common = json.loads((cdir / "common.json").read_text(encoding="utf-8"))
    scenes = {}
    for p in sorted((cdir / "scenes").glob("*.json")):
        scenes[p.stem] = json.loads(p.read_text(encoding="utf-8"))
    names = sorted(scenes)
    rows: list[Row] = []
    counter: Counter[str] = Counter()
    first_lines: set[str] = set()
    for mode in ("device", "story", "mixed"):
        for i in range(N_CONVERSATIONS[mode]):
            name = names[i % len(names)] if mode == "device" else rng.choice(names)
            scene = scenes[name]
            all_slots = {**slots, **scene.get("slots", {})}
            counter[name] += 1
            gid = f"conv-{name}-{counter[name]:03d}"
            conv = Conversation(gid, Resolver(all_slots, rng.randrange(1 << 30)), styler, rng)
            n = rng.randint(*CONV_LINES)
            device_first = mode == "device" or (mode == "mixed" and rng.random() < 0.5)
            # the first line is unique across conversations, so every step's (context, text) is
            for _ in range(100):
                conv.lines, conv.used, conv.res.bound = [], set(), {}
                if device_first:
                    conv.add(scene["openers"])
                else:
                    conv.add(scene["story_openers"], "no-3")
                if normalize(conv.lines[0][0]) not in first_lines:
                    break
            else:
                raise SystemExit(f"{gid}: no unused first line left in scene {name}")
            first_lines.add(normalize(conv.lines[0][0]))
            if mode == "device":
                device_steps(conv, scene, common, n - 1)
            elif mode == "story":
                story_steps(conv, scene, common, n - 1)
            else:
                split_at = rng.randint(4, n - 4)
                if device_first:  # device first, then the phone goes away and a story starts
                    device_steps(conv, scene, common, split_at - 1)
                    conv.add(common["put_away"], "no-general")
                    conv.add(scene["story_openers"], "no-3")
                    story_steps(conv, scene, common, n - split_at - 2)
                else:  # a story first, then the user pulls the thing up on the device
                    story_steps(conv, scene, common, split_at - 1)
                    conv.add(common["pull_up"], "no-3")
                    conv.add(scene["show_now"], "yes-2")
                    device_steps(conv, scene, common, n - split_at - 2)
            conv.lines = conv.lines[: CONV_LINES[1]]
            rows.extend(conv.rows())
    return rows


def load_handwritten() -> list[Row]:
    """Conversations written by hand (``conversations/handwritten_*.jsonl``), one row per step;
    a step labelled 1 was captured, so it is marked in the context of the later steps."""
    rows: list[Row] = []
    for path in handwritten_files("handwritten_*.jsonl", exclude="handwritten_pairs"):
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            conv = json.loads(raw)
            for i, step in enumerate(conv["steps"]):
                if label_of(step["rule"]) != int(step["label"]):
                    raise SystemExit(f"{path}:{lineno}: step {i + 1} label disagrees with its rule")
            steps = [(str(step["text"]).strip(), str(step["rule"])) for step in conv["steps"]]
            # a step equal to an evaluation line stays context, without a row of its own
            rows.extend(step_rows(steps, "handwritten", f"hw-{conv['id']}", skip=is_reserved))
    return rows


def load_handwritten_pairs() -> list[Row]:
    """Minimal pairs written by hand (``conversations/handwritten_pairs*.jsonl``)."""
    rows: list[Row] = []
    for path in handwritten_files("handwritten_pairs*.jsonl"):
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            row = json.loads(raw)
            if label_of(row["rule"]) != int(row["label"]):
                raise SystemExit(f"{path}:{lineno}: label disagrees with {row['rule']}")
            context, captured = pair_context(row.get("context") or [], f"{path}:{lineno}")
            text = str(row["text"]).strip()
            if text and not is_reserved(text):
                group = f"hw-{row['pair']}"
                rows.append(Row(context, captured, text, str(row["rule"]), "pair", group))
    return rows


def handwritten_files(pattern: str, exclude: str = "") -> list[Path]:
    """The hand-written files matching ``pattern``, in the order they were added (a round's
    letters, then the longer names of later rounds: ``handwritten_z`` before ``handwritten_2a``),
    so a new file appends rows and leaves the earlier rows' order alone."""
    paths = (DATA_DIR / "conversations").glob(pattern)
    chosen = [p for p in paths if not (exclude and p.name.startswith(exclude))]
    return sorted(chosen, key=lambda p: (len(p.stem), p.stem))


def pair_context(items: list, where: str) -> tuple[list[str], list[bool]]:
    """A minimal pair's earlier user lines: each a string (not captured) or
    ``{"text": ..., "label": 0|1}`` (captured where the label is 1, as the router said yes)."""
    context: list[str] = []
    captured: list[bool] = []
    for item in items:
        if isinstance(item, str):
            context.append(item.strip())
            captured.append(False)
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            if item.get("label", 0) not in (0, 1):
                raise SystemExit(f"{where}: a context line's label must be 0 or 1")
            context.append(item["text"].strip())
            captured.append(item.get("label", 0) == 1)
        else:
            raise SystemExit(f"{where}: a context line must be a string or {{text, label}}")
    return context, captured


def compose(rows: list[Row], split: dict[str, str], rng: random.Random) -> list[Row]:
    """Context-free single lines after the first lines of a conversation of the same split."""
    convs: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.kind in ("conversation", "handwritten"):
            convs[r.group].append(r)
    by_split: dict[str, list[list[Row]]] = defaultdict(list)
    for group in sorted(convs):
        by_split[split[group]].append(convs[group])
    lines = [r for r in rows if r.kind in ("single", "pair") and r.rule in CONTEXT_FREE_RULES]
    yes = [r for r in lines if r.label == 1]
    no = [r for r in lines if r.label == 0]
    out: list[Row] = []
    for i in range(N_COMPOSED):
        line = rng.choice(yes if i % 2 == 0 else no)
        pool = by_split[split[line.group]] or by_split["train"]
        steps = rng.choice(pool)
        cut = rng.randint(1, len(steps) - 1)
        last = steps[cut]  # the context is steps[cut]'s: everything before it, with its marks
        out.append(
            Row(
                list(last.context),
                list(last.captured),
                line.text,
                line.rule,
                "composed",
                line.group,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------
def dedupe(rows: list[Row]) -> list[Row]:
    """Drop duplicates (same normalised context and text); fail on conflicting labels."""
    seen: dict[str, Row] = {}
    out = []
    for r in rows:
        k = r.key()
        if k in seen:
            if seen[k].label != r.label:
                raise SystemExit(
                    f"conflicting labels for {k!r}: "
                    f"{seen[k].group}/{seen[k].rule} vs {r.group}/{r.rule}"
                )
            continue
        seen[k] = r
        out.append(r)
    return out


def assign_splits(rows: list[Row], rng: random.Random) -> dict[str, str]:
    """About DEV_FRACTION of the rows of each kind go to dev, by whole families."""
    size: Counter[str] = Counter(r.group for r in rows)
    kind_of = {r.group: r.kind for r in rows}
    split: dict[str, str] = {}
    for kind in KINDS:
        fams = sorted(g for g in size if kind_of[g] == kind)
        rng.shuffle(fams)
        target = DEV_FRACTION * sum(size[g] for g in fams)
        dev = 0
        for g in fams:
            take = dev + size[g] / 2 <= target
            split[g] = "dev" if take else "train"
            dev += size[g] if take else 0
    return split


def build() -> list[dict]:
    slots = json.loads((DATA_DIR / "slots.json").read_text(encoding="utf-8"))
    styler = Styler(json.loads((DATA_DIR / "styles.json").read_text(encoding="utf-8")))
    lines = build_lines(slots, styler, random.Random(SEED))
    convs = build_conversations(slots, styler, random.Random(SEED + 1))
    handwritten = load_handwritten()
    # Conversations first, so that a single line equal to a conversation's first line is the one
    # dropped (conversations stay complete); the file lists single lines first.
    kept = dedupe(handwritten + convs + lines + load_handwritten_pairs())
    rows = [r for r in kept if r.kind in ("single", "pair")] + [
        r for r in kept if r.kind in ("conversation", "handwritten")
    ]
    split = assign_splits(rows, random.Random(SEED + 2))
    composed = compose(rows, split, random.Random(SEED + 3))
    seen = {r.key() for r in rows}
    for r in composed:
        if r.key() not in seen:
            seen.add(r.key())
            rows.append(r)
    return [
        {
            "id": f"si-{i:05d}",
            "context": r.context,
            "captured": r.captured,
            "text": r.text,
            "label": r.label,
            "rule": r.rule,
            "kind": r.kind,
            "group": r.group,
            "split": split[r.group],
        }
        for i, r in enumerate(rows, 1)
    ]


def render(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def summary(records: list[dict]) -> str:
    """Markdown tables of the counts (pasted into README.md)."""
    n = len(records)
    pos = sum(r["label"] for r in records)
    convs = {r["group"] for r in records if r["kind"] in ("conversation", "handwritten")}
    out = [
        f"{n:,} rows, {pos:,} yes ({100 * pos / n:.1f} %), {len(convs)} conversations, "
        f"{len({r['group'] for r in records}):,} families",
        "",
        "| kind | rows | yes | no | train | dev |",
        "|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        part = [r for r in records if r["kind"] == kind]
        y = sum(r["label"] for r in part)
        d = sum(r["split"] == "dev" for r in part)
        out.append(
            f"| {kind} | {len(part):,} | {y:,} | {len(part) - y:,} | {len(part) - d:,} | {d:,} |"
        )
    y = pos
    d = sum(r["split"] == "dev" for r in records)
    out.append(f"| **all** | {n:,} | {y:,} | {n - y:,} | {n - d:,} | {d:,} |")
    out += [
        "",
        "| rule | label | " + " | ".join(KINDS) + " | total | dev |",
        "|---|---|" + "---|" * len(KINDS) + "---|---|",
    ]
    c = Counter((r["rule"], r["kind"]) for r in records)
    dev = Counter(r["rule"] for r in records if r["split"] == "dev")
    for rule in RULES:
        tot = sum(c[(rule, k)] for k in KINDS)
        out.append(
            f"| {rule} | {label_of(rule)} | "
            + " | ".join(f"{c[(rule, k)]:,}" for k in KINDS)
            + f" | {tot:,} | {dev[rule]:,} |"
        )
    return "\n".join(out)


def ensure_built(path: Path = OUT_PATH) -> Path:
    """Write the training data to ``path`` unless it is already current (a second or two).

    The file is generated, not committed: the set-up, the training command and the tests call
    this first, so it always matches the data files and the code of this folder.
    """
    text = render(build())
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_PATH)
    ap.add_argument(
        "--check", action="store_true", help="compare with the existing file, write nothing"
    )
    ap.add_argument(
        "--refresh-eval-hashes",
        action="store_true",
        help=f"rewrite {EVAL_HASHES_PATH.name} from the evaluation sets (after they change)",
    )
    args = ap.parse_args(argv)
    if args.refresh_eval_hashes:
        header = (
            "# SHA-1 of the lines of the evaluation sets (data/eval), letters and digits only,\n"
            "# lowercased: training lines equal to one are dropped. build_dataset.py"
            " --refresh-eval-hashes\n"
        )
        EVAL_HASHES_PATH.write_text(header + "\n".join(eval_line_hashes()) + "\n")
        print(f"wrote {EVAL_HASHES_PATH}; run the build again")
        return 0
    records = build()
    text = render(records)
    if args.check:
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if old != text:
            print(f"{args.out} is out of date: rerun build_dataset.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date ({len(records)} rows)")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(summary(records))
    digest = hashlib.sha256(text.encode()).hexdigest()
    print(f"\nwrote {args.out} ({len(records)} rows) sha256={digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
