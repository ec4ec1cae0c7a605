"""Build ``screen_intent.jsonl``: the labelled data set of the screen-intent tool router.

Every example here is hand-authored: template families ("groups") written below, expanded
with ``{a|b|c}`` alternations and ``{@SLOT}`` lists, then given a few seeded surface variants
(ASR-style lowercase without punctuation, spoken fillers). Nothing is downloaded or copied
from public data sets.

Label 1 (``screen``): the user wants the assistant to look at / capture / react to what is on
their screen right now. Label 0 (``no_screen``): anything else. See ``README.md`` next to this
file for the labelling guide.

The held-out split is fixed: it is decided per template family (all variants of one family go
to the same split; families sharing a normalised utterance are merged first), stratified by
kind, with a seeded RNG. Re-running this script reproduces the file byte for byte.

Usage: ``python serving/screen_intent/data/build_dataset.py [--out PATH] [--check]``
(``--check`` exits non-zero when the committed file differs from what the script builds).
"""

# The hand-written data tables below keep one family per call, wrapped by hand.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

SEED = 20250611
HELDOUT_FRACTION = 0.20
OUT_PATH = Path(__file__).with_name("screen_intent.jsonl")

# --------------------------------------------------------------------------------------------
# Shared slot lists
# --------------------------------------------------------------------------------------------
SLOTS: dict[str, list[str]] = {
    "WEAR": [
        "outfit",
        "dress",
        "shirt",
        "jacket",
        "fit",
        "pair of shoes",
        "hat",
        "suit",
        "hoodie",
        "sweater",
        "skirt",
        "necklace",
    ],
    "DESIGN": [
        "logo",
        "design",
        "poster",
        "flyer",
        "thumbnail",
        "banner",
        "layout",
        "color scheme",
        "font",
        "website",
        "landing page",
        "slide",
        "mockup",
        "icon",
        "menu design",
        "wedding invitation",
        "business card",
        "album cover",
    ],
    "DOC": [
        "email",
        "message",
        "text",
        "cover letter",
        "paragraph",
        "essay",
        "caption",
        "tweet",
        "post",
        "bio",
        "resume",
        "reply",
        "title",
        "headline",
        "description",
        "listing",
        "review",
        "intro",
        "outline",
        "slide",
    ],
    "IMG": [
        "photo",
        "picture",
        "pic",
        "selfie",
        "meme",
        "drawing",
        "painting",
        "sketch",
        "edit",
        "profile picture",
        "collage",
    ],
    "CODE": [
        "code",
        "function",
        "query",
        "script",
        "regex",
        "SQL",
        "config",
        "class",
        "loop",
        "unit test",
        "pull request",
        "diff",
    ],
    "CHOICE": [
        "one",
        "option",
        "color",
        "flight",
        "hotel",
        "plan",
        "laptop",
        "apartment",
        "font",
        "name",
        "template",
        "phone case",
        "couch",
        "rug",
    ],
    "THING_ID": [
        "dog breed",
        "plant",
        "bird",
        "bug",
        "car",
        "building",
        "painting",
        "font",
        "flower",
        "mushroom",
        "coin",
        "actor",
        "logo",
    ],
    "CITY": [
        "Paris",
        "Tokyo",
        "Chicago",
        "Lisbon",
        "Cairo",
        "Toronto",
        "Seoul",
        "Lima",
        "Denver",
        "Berlin",
        "Mumbai",
        "Sydney",
    ],
    "COUNTRY": [
        "France",
        "Japan",
        "Brazil",
        "Canada",
        "Kenya",
        "Australia",
        "Egypt",
        "Norway",
        "Peru",
        "Vietnam",
        "Italy",
        "Mexico",
    ],
    "ANIMAL": [
        "dragon",
        "lonely robot",
        "brave mouse",
        "talking cat",
        "pirate",
        "wizard",
        "lost puppy",
        "sleepy bear",
        "time traveler",
        "space whale",
    ],
    "TOPIC": [
        "AI",
        "remote work",
        "electric cars",
        "social media",
        "crypto",
        "nuclear power",
        "homeschooling",
        "the four day work week",
        "self driving cars",
        "space travel",
        "video games",
        "online dating",
        "tiny houses",
        "veganism",
    ],
    "SCREEN_DEV": [
        "monitor",
        "TV",
        "laptop",
        "tablet",
        "phone",
        "projector",
        "smartwatch",
        "e-reader",
    ],
    "OS": [
        "Windows",
        "a Mac",
        "an iPhone",
        "Android",
        "a Chromebook",
        "Linux",
        "an iPad",
        "a Samsung phone",
    ],
}

# Spoken fillers used for surface variants (applied to both labels alike).
PREFIXES = [
    "hey ",
    "hey, ",
    "ok ",
    "okay so ",
    "so ",
    "um ",
    "uh ",
    "alright ",
    "yo ",
    "hey assistant, ",
    "hmm ",
    "okay, ",
]
# Fillers removed when comparing utterances for near duplicates (split leakage).
_FILLER_RE = re.compile(
    r"^(?:(?:hey assistant|quick question|okay so|hey|ok|okay|so|um|uh|alright|yo|hmm)\s+)+"
)


# --------------------------------------------------------------------------------------------
# Group definitions
# --------------------------------------------------------------------------------------------
@dataclass
class Group:
    kind: str
    label: int
    items: list[tuple[tuple[str, ...], str]]  # (earlier user lines, pattern of the utterance)
    cap: int | None = None  # max rows from this group (seeded sample)
    variants: bool = True  # add ASR / filler surface variants
    gid: str = ""


GROUPS: list[Group] = []


def S(kind: str, label: int, *texts: str, cap: int | None = None, variants: bool = True) -> None:
    """A single-turn group (no context)."""
    GROUPS.append(Group(kind, label, [((), t) for t in texts], cap, variants))


def MP(
    kind: str,
    label: int,
    *blocks: tuple[str | list[str], list[str]],
    cap: int | None = None,
    variants: bool = True,
) -> None:
    """A multi-turn group: each block is (earlier user line(s), [current utterances])."""
    items: list[tuple[tuple[str, ...], str]] = []
    for ctx, texts in blocks:
        ctx_t = (ctx,) if isinstance(ctx, str) else tuple(ctx)
        items.extend((ctx_t, t) for t in texts)
    GROUPS.append(Group(kind, label, items, cap, variants))


# fmt: off
# ============================================================================================
# POSITIVES (label 1)
# ============================================================================================
P = 1
N = 0

# --- explicit requests to look / capture -----------------------------------------------------
S("explicit", P, "take a screenshot", "take a screenshot please", "screenshot this",
  "screenshot my screen", "grab a screenshot", "can you take a screenshot?",
  "could you grab a screenshot of this?", "snap a screenshot real quick")
S("explicit", P, "look at my screen", "look at my screen please", "can you look at my screen?",
  "could you look at my screen for a sec?", "please look at my screen",
  "take a look at my screen", "have a look at my screen")
S("explicit", P, "can you see my screen?", "can you see this?", "are you seeing this?",
  "do you see this?", "can you see what I'm looking at?", "you seeing this?",
  "can you see it on my screen?")
S("explicit", P, "check this out", "check this out real quick", "check out my screen",
  "check out what's on my screen", "come check this out", "yo check this out")
S("explicit", P, "look at this", "look at this please", "look at this one", "take a look at this",
  "have a look at this", "look here", "look at this real quick", "look at this thing")
S("explicit", P, "what's on my screen?", "what do you see on my screen?",
  "tell me what's on my screen", "describe what's on my screen",
  "what's on my screen right now?", "describe my screen for me", "what can you see right now?")
S("explicit", P, "capture my screen", "capture the screen", "capture this",
  "capture what I'm looking at", "grab my screen", "grab what's on my screen")
S("explicit", P, "let me show you something", "I want to show you something",
  "can I show you something?", "let me show you my screen", "I'm going to show you this",
  "here, let me show you", "I wanna show you this")
S("explicit", P, "see what I'm looking at", "look at what I'm seeing",
  "see what's on my display", "look at what's in front of me on the screen",
  "peek at my screen", "glance at my screen", "glance at this for me")
S("explicit", P, "scan my screen", "read my screen", "check my screen", "check my screen please",
  "check what's on the screen", "look at the screen", "look at the monitor for me")
S("explicit", P, "take a look", "take a quick look", "have a look", "give this a look",
  "give it a quick look", "can you take a look?", "mind taking a look at this?")
S("explicit", P, "what am I looking at?", "what am I looking at here?", "what is this?",
  "what's this?", "what is this thing?", "what's this thing on my screen?")
S("explicit", P, "can you see the {@DESIGN} on my screen?", "do you see the {@IMG} I have open?",
  "look at the {@DOC} I have open", cap=5)
S("explicit", P, "screenshot the {error|chart|page|receipt|map|email|message|results}",
  "take a screenshot of this {page|window|tab|chat|graph|email|error}", cap=5)
S("explicit", P, "would you kindly look at my screen?", "if you don't mind, could you look at this?",
  "sorry to bother you, can you check my screen?", "I'd appreciate it if you looked at this",
  "please have a look at what I've got open")
S("explicit", P, "eyes on my screen", "eyes on this", "peep this", "lookie here",
  "get a load of this", "feast your eyes on this", "yo peep my screen")

S("explicit", P, "want to see something funny?", "wanna see something cool?", "you want to see?",
  "guess what I'm looking at", "you gotta see this", "you have to see this")

# --- reactions / opinions on something shown -------------------------------------------------
S("reaction", P, "what do you think of this {@WEAR}?", "what do you think of this {@DESIGN}?",
  cap=7)
S("reaction", P, "how does this {@WEAR} look?", "how does this {@DESIGN} look?", cap=5)
S("reaction", P, "does this {@WEAR} look good on me?", "does this {@IMG} look good?", cap=5)
S("reaction", P, "rate my {fit|outfit|setup|desk setup|drawing|logo|thumbnail|playlist|profile|"
  "homepage|slides|character build}", "rate this {@IMG}", "rate this {@DESIGN} out of ten",
  cap=6)
S("reaction", P, "do you like this {@DESIGN}?", "do you like this {@WEAR}?",
  "do you like my {@IMG}?", cap=5)
S("reaction", P, "be honest, is this {@DESIGN} any good?", "be honest, how's this {@IMG}?",
  "honestly, is this {@WEAR} ugly?", cap=5)
S("reaction", P, "thoughts on this?", "thoughts on this {@DESIGN}?", "any thoughts on this {@IMG}?",
  "what are your thoughts on this?", cap=5)
S("reaction", P, "give me feedback on this {@DESIGN}", "can you give me feedback on this?",
  "critique this {@IMG}", "roast my {@DESIGN}", cap=5)
S("reaction", P, "what would you change about this {@DESIGN}?", "what would you change here?",
  "how can I make this better?", "how would you improve this {@IMG}?", cap=5)
S("reaction", P, "would you wear this?", "would you buy this?", "would you click on this?",
  "would you eat this?", "would you hire someone with this resume?",
  "would you swipe right on this profile?")
S("reaction", P, "is this {@WEAR} too much?", "is this too much for a first date?",
  "is this {@DESIGN} too busy?", "is this too bright?", cap=5)
S("reaction", P, "does this color go with this?", "do these colors match?",
  "do these two go together?", "does this shirt go with these pants?",
  "do these shoes match this dress?")
S("reaction", P, "how's my {@IMG}?", "how's this {@IMG} looking?", "how does my {@DESIGN} look?",
  "how do I look in this {@IMG}?", cap=5)
S("reaction", P, "is this {meme|pic|drawing} funny?", "is this meme funny or cringe?", "do you get this joke?",
  "can you explain this meme?", "why is this funny?")
S("reaction", P, "isn't this cute?", "isn't this gorgeous?", "isn't this hilarious?",
  "how cool is this?", "is this not the cutest thing ever?")
S("reaction", P, "what vibe does this {@DESIGN} give off?", "what does this {@IMG} say about me?",
  "what mood does this give you?", cap=5)

# --- checking correctness of something shown -------------------------------------------------
S("check", P, "is this {@DOC} ok?", "is this {@DOC} okay to send?", cap=5)
S("check", P, "does this {@DOC} sound ok?", "does this {@DOC} sound professional?",
  "does this {@DOC} sound rude?", cap=5)
S("check", P, "is this email ok?", "is this message too harsh?", "does this text sound passive aggressive?",
  "can I send this?", "should I send this?", "is this good to send?")
S("check", P, "does this look right?", "does this look right to you?", "does this look correct?",
  "does this seem right?", "is this right?", "is this correct?", "is this correct or not?")
S("check", P, "did I do this right?", "did I fill this out right?", "did I fill this in correctly?",
  "am I doing this right?", "is this how it's supposed to look?", "did I set this up right?")
S("check", P, "can you proofread this?", "proofread this for me", "any typos here?",
  "are there any typos in this?", "is this grammatically correct?", "check my grammar here",
  "can you spot any mistakes in this?")
S("check", P, "check my work", "check my answers", "is my answer right?", "are these answers right?",
  "is this math right?", "did I solve this correctly?", "which ones did I get wrong?")
S("check", P, "is this the right form?", "is this the right address?", "is this the right link?",
  "is this the right button?", "is this the right page?", "is this the right file?")
S("check", P, "does this {@DOC} make sense?", "is this {@DOC} clear?", "is this {@DOC} too long?",
  cap=5)
S("check", P, "does my {resume|cover letter|essay|profile|bio|portfolio|slide deck|website} look ok?",
  "does my {resume|cover letter|essay|profile|bio|portfolio|slide deck|website} look professional?",
  cap=5)
S("check", P, "is this receipt right?", "is this bill correct?", "does this invoice look right?",
  "did they charge me twice here?", "is this price right?", "is this a good deal?")
S("check", P, "is this formula right?", "does this spreadsheet add up?", "are these numbers right?",
  "is this chart accurate?", "is this graph labeled correctly?")

# --- choosing between options shown ----------------------------------------------------------
S("choose", P, "which one should I pick?", "which one should I choose?", "which one should I get?",
  "which one would you pick?", "which one do you like best?", "pick one for me")
S("choose", P, "which {@CHOICE} should I pick?", "which {@CHOICE} is better?",
  "which of these {@CHOICE}s do you like?", cap=6)
S("choose", P, "which of these should I buy?", "which of these is cheaper?",
  "which of these is the best deal?", "which of these looks best?", "which of these would you get?")
S("choose", P, "should I go with the first one or the second one?", "the left one or the right one?",
  "top one or bottom one?", "the blue one or the green one?",
  "this one or that one?")
S("choose", P, "which flight should I book?", "which hotel looks best here?",
  "which apartment should I apply for?", "which plan is the best value?",
  "which of these recipes should I make?")
S("choose", P, "which {@IMG} should I post?", "which {@IMG} is better for my profile?",
  "which {@DESIGN} should I go with?", cap=5)

# --- read / explain / identify something shown -----------------------------------------------
S("read_explain", P, "read this for me", "read this to me", "can you read this for me?",
  "read this out loud", "can you read what it says?", "read me what's on the screen")
S("read_explain", P, "what does this say?", "what does it say here?", "what does this part say?",
  "I can't read this, what does it say?", "what does this sentence say?")
S("read_explain", P, "what does this error mean?", "what's this error?", "what does this warning mean?",
  "why am I getting this error?", "how do I fix this error?", "what does this message mean?",
  "what is this error telling me?")
S("read_explain", P, "translate this for me", "can you translate this?", "what language is this?",
  "what does this mean in English?", "translate this page", "translate what's on my screen")
S("read_explain", P, "summarize this", "summarize this page", "summarize this article for me",
  "tl;dr this", "give me the gist of this", "summarize this email", "what's this article about?")
S("read_explain", P, "explain this graph", "what is this chart showing?", "explain this chart to me",
  "what does this diagram mean?", "help me understand this table", "what's this graph saying?")
S("read_explain", P, "is this email a scam?", "is this a phishing email?", "is this website legit?",
  "is this text a scam?", "should I click this link?", "does this look like a scam?",
  "is this popup real?")
S("read_explain", P, "what's this popup?", "what's this notification?", "what is this window?",
  "why is this popup here?", "what's this icon?", "what does this button do?",
  "what does this setting do?")
S("read_explain", P, "what {@THING_ID} is this?", "can you identify this {@THING_ID}?",
  cap=5)
S("read_explain", P, "who is this?", "who is this guy?", "who's this actor?", "who is this in the picture?",
  "do you know who this is?", "where is this place?", "where was this photo taken?")
S("read_explain", P, "what font is this?", "what color is this exactly?", "what's the hex code of this color?",
  "what brand is this?", "how much does this cost?", "what model is this?")
S("read_explain", P, "explain this {paragraph|section|clause|sentence|paragraph for me|part}",
  "what does this {clause|term|line|section|footnote|word} mean?", cap=5)
S("read_explain", P, "how do you pronounce this?", "how do I say this word?", "what's this word?",
  "what does this abbreviation stand for?", "what's this symbol?")

# --- code shown ------------------------------------------------------------------------------
S("code", P, "how's my code look?", "how does my code look?", "how's this code?",
  "is my code any good?", "rate my code", "review my code")
S("code", P, "what's wrong with this {@CODE}?", "why doesn't this {@CODE} work?",
  "can you review this {@CODE}?", "is there a bug in this {@CODE}?", cap=6)
S("code", P, "why is this failing?", "why won't this compile?", "why is this test red?",
  "why is this crashing?", "why does this throw an exception?", "why is this so slow?")
S("code", P, "what does this line do?", "what does this function do?", "explain this code",
  "explain this regex", "what is this code doing?", "walk me through this code")
S("code", P, "help me debug this", "can you help me debug this?", "find the bug here",
  "where's the bug?", "what am I missing here?", "what's wrong here?")
S("code", P, "what's this stack trace telling me?", "what does this traceback mean?",
  "why is the terminal showing this?", "what's this compiler error?", "why is my build red?")
S("code", P, "is this query efficient?", "can this be simplified?", "how would you refactor this?",
  "is this the right way to do it?", "is this pythonic?", "is there a cleaner way to write this?")

# --- situational: user is in the middle of something on screen -------------------------------
S("situational", P, "I'm on the checkout page, which shipping option should I pick?",
  "I'm on the checkout page, is this total right?", "I'm at checkout, did it apply my coupon?",
  "I'm on the payment page, which option is safest?")
S("situational", P, "I'm looking at my bank statement, what's this charge?",
  "there's a charge on my statement I don't recognize, what is it?",
  "I'm looking at my phone bill, why is it so high?", "what's this charge on my card?")
S("situational", P, "I'm in the settings menu, what should I turn off?",
  "I'm in the settings, where's the privacy option?", "which of these settings should I change?",
  "what should I click here?", "which button do I press?", "where do I click to cancel?",
  "where do I click?")
S("situational", P, "help me fill out this form", "what do I put in this field?",
  "what goes in this box?", "which option do I select here?", "what should I write here?",
  "what do I enter here?")
S("situational", P, "how do I get past this screen?", "I'm stuck on this screen, what do I do?",
  "it's been stuck on this screen forever", "what do I do on this page?",
  "I'm stuck here, what now?")
S("situational", P, "I'm stuck on this level, what do I do?", "what's my best move here?",
  "how do I beat this boss?", "where do I go next in this map?", "what's the answer to this puzzle?",
  "what should I play here?")
S("situational", P, "why is my screen showing this?", "my laptop is showing this weird message, what is it?",
  "this app keeps crashing with this message", "my phone just popped up this warning, is it bad?",
  "my computer is showing this, what do I do?", "why does my screen look like this?")
S("situational", P, "I'm looking at flights right now, which one is cheapest?",
  "I'm looking at apartments online, which one looks best?",
  "I have three tabs of laptops open, which is the best?",
  "I'm on Zillow right now, is this house a good deal?",
  "I'm on Amazon right now, are these reviews fake?")
S("situational", P, "I'm reading this article right now, is it biased?",
  "I have this contract open, is there anything sketchy in it?",
  "I'm reading my lease right now, what does this clause mean?",
  "I have my lab results open, are these numbers normal?")
S("situational", P, "I'm on this recipe page, can I swap anything here?",
  "I'm looking at this recipe, how long will it take?", "is this recipe hard?",
  "what can I substitute in this recipe?")
S("situational", P, "I'm looking at the map right now, which route is faster?",
  "which way should I go on this map?", "where am I on this map?",
  "how far is it from here to here?")
S("situational", P, "I'm in a zoom call, who is talking right now?",
  "who's the person in the top left?", "what's written on the whiteboard in this video?",
  "what's he holding in this video?", "what is she pointing at?")

# --- typos and ASR errors --------------------------------------------------------------------
S("typo_asr", P, "lok at this", "look at dis", "lookit this", "look at thsi", "luk at this",
  "lok at my screen")
S("typo_asr", P, "chek this", "chek this out", "chck my screen", "check this ot", "chekc this out",
  "cheque this out")
S("typo_asr", P, "screen shot", "take a screen shot", "scren shot this", "tak a screenshot",
  "take a screenshoot", "screen shot this please", "take a screen shot of this")
S("typo_asr", P, "look at my scren", "look at my screan", "can u see my screen", "can u see this",
  "can you sea this", "do u see this")
S("typo_asr", P, "wat do u think of this", "whatcha think of this", "what do you thing of this",
  "wdyt of this", "what u think about this one", "wat u think of this")
S("typo_asr", P, "hows this look", "how dis look", "rate my fitt", "is this emial ok",
  "does this look rite", "whats this error mean", "reed this for me")
S("typo_asr", P, "screenie pls", "ss this", "take a pic of my screen", "snap my screen",
  "grab a screeny", "screencap this")
S("typo_asr", P, "look at the scream", "can you look at the screen shot", "look at this screen shot",
  "take a screen shot now", "look at my screens real quick")
S("typo_asr", P, "whats on my screen", "wat is this", "whats dis", "what is dis thing",
  "wats on my screen rn")
S("typo_asr", P, "is this rite", "did i do this rite", "any typos in dis", "proof read this",
  "does this look okey")
S("typo_asr", P, "which 1 should i pick", "wich one should i get", "which one shud i choose",
  "pick 1 for me")

# --- very short forms (no context: a bare pointer means "look at what I'm showing") ---------
S("short", P, "this?", "this one?", "like this?", "this right here?", "this thing?")
S("short", P, "thoughts?", "thoughts on this?", "any thoughts?", "opinions?")
S("short", P, "look", "look!", "look look", "look at it", "look here!")
S("short", P, "see?", "see this?", "see it?", "you see it?", "see that?")
S("short", P, "how about this?", "what about this?", "and this?", "what about this one?",
  "and this one?", "how about this one?")
S("short", P, "check it", "check it out", "here, look", "look at it!")

# ============================================================================================
# NEGATIVES (label 0)
# ============================================================================================

# --- screens / monitors / TVs / screenshots in general ---------------------------------------
S("neg_screen_words", N, "what's the best monitor to buy?", "what's a good {@SCREEN_DEV} for gaming?",
  "what's the best {@SCREEN_DEV} under 300 dollars?", "should I get a curved monitor?",
  "is a 27 inch monitor too big?", cap=10)
S("neg_screen_words", N, "my screen cracked yesterday", "my {@SCREEN_DEV} screen is cracked",
  "where can I get my phone screen fixed?", "how much does it cost to fix a cracked screen?",
  "I dropped my phone and the screen shattered", cap=10)
S("neg_screen_words", N, "how do I take a screenshot on {@OS}?",
  "how do you take a screenshot on {@OS}?", "where do screenshots get saved on {@OS}?", cap=12)
S("neg_screen_words", N, "how do I reduce my screen time?", "is too much screen time bad for kids?",
  "my kid spends too much time on screens", "how much screen time is healthy?",
  "I want to spend less time on my phone", "I stare at screens all day and my eyes hurt")
S("neg_screen_words", N, "what size TV should I get for my living room?", "OLED or LCD, which is better?",
  "what's the difference between 4K and 1080p?", "is 8K worth it?", "what's a good refresh rate for gaming?",
  "how far should I sit from my TV?")
S("neg_screen_words", N, "my monitor keeps flickering", "why is my screen so dim?",
  "my laptop screen went black, what should I do?", "my TV won't turn on",
  "my phone screen is frozen, how do I restart it?", "there are dead pixels on my new monitor, can I return it?")
S("neg_screen_words", N, "how do I share my screen on Zoom?", "how do I record my screen on {@OS}?",
  "how do I turn on screen mirroring?", "how do I cast my phone to my TV?",
  "how do I connect a second monitor?", cap=10)
S("neg_screen_words", N, "I need a new screen protector", "what's a screen reader?",
  "who invented the touchscreen?", "how do touchscreens work?", "how does a TV work?",
  "why do screens use RGB?", "what's a good screensaver?")
S("neg_screen_words", N, "is blue light from screens bad for sleep?", "do screen filters actually help?",
  "should I use night mode on my phone?", "how do I turn on dark mode?",
  "is dark mode better for your eyes?")
S("neg_screen_words", N, "I took a screenshot yesterday but can't find it", "I have way too many screenshots on my phone",
  "how do I delete old screenshots?", "my friend sent me a screenshot of our group chat yesterday",
  "is it rude to screenshot someone's story?", "can people see when you screenshot on Instagram?")
S("neg_screen_words", N, "I bought a new monitor today", "I'm watching a movie on the big screen tonight",
  "the TV in the hotel doesn't work", "I lost my TV remote again", "we got a projector for movie nights",
  "the screen at the movie theater was huge")
S("neg_screen_words", N, "what's the resolution of the iPhone 15?", "how many inches is a standard laptop screen?",
  "which phone has the best screen?", "is a matte or glossy screen better?", "what's an IPS panel?")
S("neg_screen_words", N, "how do I clean my {@SCREEN_DEV} screen?", "can I use windex on my {@SCREEN_DEV}?",
  "how do I mount a {TV|monitor|projector screen} on the wall?", cap=8)
S("neg_screen_words", N, "what's the best screen recording software?", "what's a good app for screen sharing?",
  "is screen sharing on FaceTime safe?", "what's the shortcut for a screenshot on a Mac?",
  "what is the print screen key for?")
S("neg_screen_words", N, "the screen door on my porch is broken", "we need a new window screen",
  "what's a screen test in acting?", "my mom wants to screen her calls", "I have a job screening call tomorrow",
  "I'm getting a cancer screening next week")
S("neg_screen_words", N, "what movies are showing this weekend?", "what's on TV tonight?",
  "what channel is the game on?", "what should I binge watch on Netflix?",
  "recommend a good TV show", "is there anything good on TV?")

# --- see / look / watch in the ordinary sense ------------------------------------------------
S("neg_see_look", N, "I saw a movie last night", "I saw a great movie yesterday", "we saw a concert on Friday",
  "I saw my old teacher at the store", "I saw a deer on my drive home", "I saw a shooting star once")
S("neg_see_look", N, "look, I need some advice", "look, I'm really tired", "look, just tell me the truth",
  "look, I don't know what to do", "look, can we talk about something else?", "listen, I need help with something")
S("neg_see_look", N, "see you later", "see ya", "see you tomorrow", "see you soon", "see you next time",
  "long time no see", "catch you later")
S("neg_see_look", N, "I look tired today", "I look terrible in the morning", "people say I look like my dad",
  "do you think I'll look old at forty?", "I looked so silly at the party")
S("neg_see_look", N, "can you see the future?", "can you see colors?", "can you see in the dark?",
  "how far can an eagle see?", "can dogs see color?", "why can't we see in the dark?")
S("neg_see_look", N, "I'll see what I can do", "let me see... maybe pasta tonight", "let's see, what else do I need?",
  "we'll see", "I see what you mean", "I see", "oh I see", "ah, I see now")
S("neg_see_look", N, "see, that's exactly my point", "see, I told you so", "you see, the problem is my boss",
  "see, this is why I hate Mondays")
S("neg_see_look", N, "look who's talking", "look on the bright side", "look before you leap",
  "always look on the bright side of life", "good things come to those who wait")
S("neg_see_look", N, "I'm looking forward to the weekend", "I'm looking for a new job", "I'm looking into buying a house",
  "I'm looking for a good book", "I'm looking for a gift for my mom", "I'll look after the kids tonight")
S("neg_see_look", N, "look up the weather for me", "can you look up flights to {@CITY}?",
  "look up a recipe for banana bread", "look up who won the game last night", "look up the hours for Target",
  cap=8)
S("neg_see_look", N, "what does a blue whale look like?", "what do you look like?", "what does {@CITY} look like?",
  "what does a platypus look like?", "what did dinosaurs look like?", cap=6)
S("neg_see_look", N, "I can't see well without my glasses", "my eyesight is getting worse",
  "I need to see a doctor", "I need to see an eye doctor", "when should I see a dentist?")
S("neg_see_look", N, "have you seen the new Batman movie?", "did you see the game last night?",
  "I want to see the northern lights", "we went to see my grandma", "I'm seeing someone new",
  "I've never seen the ocean")
S("neg_see_look", N, "looks like rain today", "it looks like I'll be late", "looks like my flight is delayed",
  "seems like it's going to be a long day", "looks like we're out of milk")
S("neg_see_look", N, "I watched TV all day", "did you watch the game last night?", "I'm watching my weight",
  "watch out for ice on the roads", "I love watching the sunset", "I binge watched a whole season yesterday")
S("neg_see_look", N, "the sky looks amazing tonight", "the garden looks great this year",
  "my hair looks awful today", "the city looks so different at night", "my dog looks so happy")
S("neg_see_look", N, "seeing is believing", "out of sight, out of mind", "I'll believe it when I see it",
  "beauty is in the eye of the beholder", "don't judge a book by its cover")

# --- photos / pictures / cameras in general ---------------------------------------------------
S("neg_photo_camera", N, "take a photo of the sunset tomorrow?", "should I take a photo of the sunset tomorrow?",
  "remind me to take pictures at the party", "I should take more photos of my kids",
  "I want to take family photos this fall")
S("neg_photo_camera", N, "what's the best camera for beginners?", "should I buy a DSLR or mirrorless?",
  "what camera do YouTubers use?", "is the iPhone camera good enough for weddings?", "what's a good lens for portraits?")
S("neg_photo_camera", N, "how do I take better photos with my phone?", "tips for photographing the moon?",
  "how do I take good selfies?", "what makes a good portrait?", "what's the rule of thirds?",
  "what is aperture?", "what does ISO mean in photography?")
S("neg_photo_camera", N, "I took so many pictures at the beach", "I love taking pictures of birds",
  "my photo got a lot of likes", "I posted a selfie yesterday", "my mom keeps posting baby pictures of me",
  "I found old photos of my grandparents")
S("neg_photo_camera", N, "what's a good photo editing app?", "how do I back up my photos?", "my camera roll is full",
  "how do I print photos?", "how do I make a photo album?", "what's the best way to store old photos?")
S("neg_photo_camera", N, "can you draw me a picture?", "paint me a picture with words",
  "describe a picture of a cat", "imagine a picture of a beach", "can you make an image of a dragon?")
S("neg_photo_camera", N, "my webcam isn't working", "my phone camera is blurry", "my camera lens is scratched",
  "why is my webcam so grainy?", "how do I cover my laptop camera?")
S("neg_photo_camera", N, "a picture is worth a thousand words, right?", "who's the most famous photographer?",
  "when was the first photograph taken?", "how does a camera work?", "what's a polaroid?",
  "what's a good picture frame size?")
S("neg_photo_camera", N, "I need passport photos", "where can I get passport photos taken?",
  "we have school picture day tomorrow", "I hate how I look in photos", "I'm a terrible photographer")

# --- greetings and small talk ---------------------------------------------------------------
S("neg_smalltalk", N, "hi", "hello", "hey there", "hey", "hiya", "good morning", "good evening", "good night",
  "howdy", "hello again")
S("neg_smalltalk", N, "what's up", "what's up?", "sup", "how's it going?", "how are you?", "how are you doing today?",
  "how have you been?", "what's new?", "how's your day going?")
S("neg_smalltalk", N, "thanks", "thank you", "thank you so much", "thanks a lot", "appreciate it", "cheers",
  "you're the best", "you're awesome")
S("neg_smalltalk", N, "ok", "okay", "cool", "nice", "yeah", "yes", "no", "sure", "yep", "nope", "alright",
  "got it")
S("neg_smalltalk", N, "bye", "goodbye", "talk to you later", "gotta go", "bye for now", "have a good one",
  "good talk")
S("neg_smalltalk", N, "who are you?", "what's your name?", "are you a robot?", "are you real?",
  "what can you do?", "tell me about yourself", "how old are you?", "do you have feelings?")
S("neg_smalltalk", N, "can you hear me?", "are you there?", "hello? can you hear me?", "testing testing",
  "is this thing on?", "are you listening?", "can you hear me okay?", "am I on mute?")
S("neg_smalltalk", N, "sorry, go on", "wait", "hold on", "one sec", "hang on a second", "hmm", "let me think",
  "never mind", "forget it", "sorry, what?")
S("neg_smalltalk", N, "really?", "wow", "interesting", "oh no", "no way", "that's funny", "haha", "lol",
  "that's crazy", "oh nice", "seriously?", "huh")
S("neg_smalltalk", N, "yes please", "no thanks", "maybe later", "sounds good", "that makes sense",
  "I don't know", "I guess", "fair enough", "you're right", "not really")
S("neg_smalltalk", N, "what are you up to?", "how was your day?", "did you sleep well?", "what's your favorite color?",
  "do you like music?", "what do you do for fun?", "are you busy?")
S("neg_smalltalk", N, "I'm back", "I'm home", "I just woke up", "I'm heading to bed", "I'm at work",
  "I'm on my lunch break", "I'm driving right now")

# --- factual questions ------------------------------------------------------------------------
S("neg_facts", N, "what's the capital of {@COUNTRY}?", "what language do they speak in {@COUNTRY}?",
  "what's the population of {@COUNTRY}?", "what currency does {@COUNTRY} use?", cap=16)
S("neg_facts", N, "what's the weather in {@CITY} tomorrow?", "what time is it in {@CITY}?",
  "how far is {@CITY} from here?", "is it raining in {@CITY}?", cap=14)
S("neg_facts", N, "how tall is Mount Everest?", "how deep is the ocean?", "how far is the moon?",
  "what's the largest ocean?", "what's the longest river in the world?", "how big is the sun?",
  "how old is the earth?")
S("neg_facts", N, "who wrote Hamlet?", "who painted the Mona Lisa?", "who invented the light bulb?",
  "who was the first president?", "who discovered penicillin?", "who won the world cup in 2018?",
  "who directed Jaws?")
S("neg_facts", N, "how many ounces in a cup?", "convert 5 miles to kilometers", "what's 15 percent of 80?",
  "what's 12 times 14?", "how many days until Christmas?", "how many grams in a pound?",
  "what's the square root of 144?")
S("neg_facts", N, "why is the sky blue?", "how does photosynthesis work?", "how do airplanes fly?",
  "why do we dream?", "how do vaccines work?", "what causes earthquakes?", "how does wifi work?")
S("neg_facts", N, "when did World War 2 end?", "when was the iPhone released?", "what year did we land on the moon?",
  "when was the Eiffel Tower built?", "how long did the Roman empire last?")
S("neg_facts", N, "is a tomato a fruit?", "how many legs does a spider have?", "do fish sleep?",
  "what's the fastest animal?", "how long do cats live?", "are bats blind?", "can penguins fly?")
S("neg_facts", N, "what does DNA stand for?", "what does NASA stand for?", "what does ASAP mean?",
  "what does the word ephemeral mean?", "what's the difference between affect and effect?",
  "how do you spell necessary?", "what's a synonym for happy?")
S("neg_facts", N, "what's the boiling point of water?", "what's the speed of light?", "how hot is lava?",
  "what's the coldest place on earth?", "what's the tallest building in the world?")
S("neg_facts", N, "what's the score of the Lakers game?", "who's playing in the Super Bowl?",
  "when is the next full moon?", "what's the stock price of Apple?", "what's the news today?",
  "is the post office open on Sunday?")
S("neg_facts", N, "what does a segmentation fault mean?", "what is a null pointer exception?",
  "what's a 404 error?", "what does error code 500 mean?", "what's a blue screen of death?",
  "what does 'connection refused' mean?")

# --- opinions about topics that are not shown -------------------------------------------------
S("neg_opinion_topic", N, "what do you think about {@TOPIC}?", "what's your opinion on {@TOPIC}?",
  "how do you feel about {@TOPIC}?", "thoughts on {@TOPIC}?", cap=20)
S("neg_opinion_topic", N, "which is better, cats or dogs?", "what's better, iPhone or Android?",
  "which is better, Python or JavaScript?", "coffee or tea?", "would you rather be rich or famous?",
  "summer or winter?", "which is better, Marvel or DC?")
S("neg_opinion_topic", N, "do you like pizza?", "what's your favorite movie?", "what's your favorite book?",
  "what kind of music do you like?", "do you have a favorite food?", "do you like the beach?")
S("neg_opinion_topic", N, "is coffee bad for you?", "is it worth learning Spanish?", "is college worth it?",
  "is it worth buying a house right now?", "is a Tesla worth it?", "is intermittent fasting healthy?")
S("neg_opinion_topic", N, "what do you think of the new iPhone?", "what do you think of Taylor Swift?",
  "what do you think of the Beatles?", "what did you think of the last Star Wars movie?",
  "what do you think of Elon Musk?", "do you think the Chiefs will win?")
S("neg_opinion_topic", N, "do you think aliens exist?", "do you think it will rain tomorrow?",
  "do you think AI will take our jobs?", "do you believe in ghosts?", "is there life on Mars?",
  "will humans ever live on the moon?")
S("neg_opinion_topic", N, "how do you feel about pineapple on pizza?", "is a hot dog a sandwich?",
  "is cereal a soup?", "are you team iPhone or team Android?", "is it weird to eat breakfast for dinner?")
S("neg_opinion_topic", N, "what's the best programming language?", "what's the best pizza topping?",
  "what's the best city to live in?", "what's the best way to learn guitar?", "what's the best car for a family?",
  "what's the best streaming service?")

# --- requests that need no screen --------------------------------------------------------------
S("neg_request", N, "tell me a joke", "tell me a funny joke", "tell me a dad joke", "know any good jokes?",
  "make me laugh", "tell me a pun")
S("neg_request", N, "tell me a story about a {@ANIMAL}", "write a short story about a {@ANIMAL}",
  "make up a bedtime story about a {@ANIMAL}", cap=12)
S("neg_request", N, "write a poem about the ocean", "write a haiku about autumn", "write me a limerick",
  "write a song about my cat", "write a rap about pizza", "write a poem for my wife's birthday")
S("neg_request", N, "set a timer for 10 minutes", "set an alarm for 7am", "remind me to call mom at 5",
  "remind me to buy milk", "wake me up in 20 minutes", "start a stopwatch", "cancel my alarm")
S("neg_request", N, "play some jazz", "play my workout playlist", "turn up the volume", "skip this song",
  "pause the music", "play something relaxing", "what song is this?", "who sings this song?")
S("neg_request", N, "what's a good recipe for pancakes?", "how do I make lasagna?", "what should I cook tonight?",
  "give me a quick dinner idea", "how long do I boil an egg?", "what can I make with chicken and rice?")
S("neg_request", N, "give me a fun fact", "tell me something interesting", "teach me a new word",
  "tell me a random fact about space", "quiz me on world capitals", "let's play twenty questions",
  "let's play a game")
S("neg_request", N, "help me write an email to my boss", "write me a cover letter for a barista job",
  "write a text to my friend saying I'm running late", "help me write a birthday message for my dad",
  "draft a complaint to my landlord", "write a thank you note for my teacher")
S("neg_request", N, "translate good morning into Spanish", "how do you say thank you in Japanese?",
  "what's hello in French?", "translate I love you into Italian", "how do I say where is the bathroom in German?")
S("neg_request", N, "summarize the plot of Hamlet", "summarize the French revolution", "explain quantum computing simply",
  "explain how the stock market works", "give me a summary of World War 1", "explain black holes like I'm five")
S("neg_request", N, "read me a bedtime story", "read me a poem", "read me the news", "read me a recipe for soup")
S("neg_request", N, "call my sister", "text John that I'm late", "send a message to mom", "call the pizza place",
  "add milk to my shopping list", "make a shopping list for tacos", "turn off the lights", "set the thermostat to 70")
S("neg_request", N, "recommend a good book", "recommend a movie for tonight", "suggest a podcast",
  "what should I name my dog?", "give me a name for my band", "suggest a gift for my brother")
S("neg_request", N, "help me plan a trip to {@CITY}", "what should I do in {@CITY}?",
  "what's the best time to visit {@CITY}?", "plan a weekend in {@CITY} for me", cap=10)
S("neg_request", N, "give me a workout plan", "make me a meal plan for the week", "help me make a budget",
  "help me study for my history test", "make me a packing list for camping", "help me practice for my interview")

# --- advice -----------------------------------------------------------------------------------
S("neg_advice", N, "I need advice on my relationship", "how do I ask for a raise?", "how can I sleep better?",
  "should I quit my job?", "how do I make friends in a new city?", "how do I stop procrastinating?")
S("neg_advice", N, "how do I fix a leaky faucet?", "how do I unclog a drain?", "how do I change a tire?",
  "how do I get a stain out of a shirt?", "how do I jump start a car?", "how do I reset my router?")
S("neg_advice", N, "what should I wear to a wedding?", "what colors go well with navy?", "what should I wear to my interview?",
  "do brown shoes go with black pants?", "how should a suit fit?", "what shoes go with a summer dress?")
S("neg_advice", N, "how do I write a good resume?", "how long should a cover letter be?", "how should I start my essay?",
  "how do I write a good bio?", "how do I make my slides less boring?", "what makes a good logo?")
S("neg_advice", N, "how do I center a div?", "how do I reverse a list in Python?", "how do I write a for loop in JavaScript?",
  "what's the difference between a list and a tuple?", "how do I undo a git commit?", "how do I learn to code?")
S("neg_advice", N, "how do I study for exams?", "how do I focus better?", "how do I get better at public speaking?",
  "how do I stay motivated?", "how do I learn a language fast?", "how many hours should I sleep?")
S("neg_advice", N, "how do I lose weight?", "what's a good stretch for back pain?", "is it okay to run every day?",
  "how much water should I drink?", "what should I eat before a workout?", "how do I start meditating?")
S("neg_advice", N, "how do I save money?", "should I pay off debt or invest?", "how do I start investing?",
  "how do I improve my credit score?", "is renting or buying better?", "how much should I tip?")
S("neg_advice", N, "how do I deal with a rude coworker?", "how do I tell my friend I'm upset?",
  "how do I say no to people?", "my roommate never cleans, what should I do?", "how do I apologize to my mom?")
S("neg_advice", N, "how do I keep my plants alive?", "how often should I water a cactus?",
  "how do I train my puppy?", "why does my cat scratch the couch?", "how do I get rid of fruit flies?")
S("neg_advice", N, "how do I spot a phishing email?", "how do I know if a website is safe?",
  "how do I make a strong password?", "should I use a VPN?", "how do I protect my accounts from hackers?")

# --- emotions / personal statements ---------------------------------------------------------
S("neg_emotion", N, "I'm feeling sad today", "I'm so stressed about work", "I had a terrible day",
  "I feel lonely", "I'm really anxious", "I'm so tired of everything")
S("neg_emotion", N, "I'm excited for my trip", "I'm so happy right now", "I got the job!", "I passed my exam!",
  "I'm getting married next month", "my sister had a baby")
S("neg_emotion", N, "I'm bored", "I'm hungry", "I can't sleep", "I'm nervous about my interview",
  "I miss my family", "I'm angry at my brother", "I'm so done with today")
S("neg_emotion", N, "my dog died last week", "I broke up with my boyfriend", "I failed my driving test",
  "I got laid off today", "my grandma is in the hospital")
S("neg_emotion", N, "I love you", "you're annoying", "I'm proud of myself", "I need a hug",
  "I just want to talk", "can we just chat for a bit?")

# --- the content is given in words (nothing to look at) -------------------------------------
S("neg_content_given", N, "what do you think of this plan: we leave at six and drive to the coast?",
  "here's my plan: I quit my job in June and travel for a year, thoughts?",
  "my idea is an app that reminds you to drink water, what do you think?",
  "what do you think of this idea: a cafe for dogs?")
S("neg_content_given", N, "is this sentence correct: me and him went to the store?",
  "is it correct to say: there going to the park?", "which is right, who or whom?",
  "is it 'less people' or 'fewer people'?", "is this grammatical: I could of gone")
S("neg_content_given", N, "check this fact for me: the Great Wall is visible from space",
  "is it true that goldfish have a three second memory?", "is it true that we only use ten percent of our brain?",
  "true or false: bulls hate the color red")
S("neg_content_given", N, "is Rise and Shine a good name for a bakery?", "which is better for my store name, Blue Fox or Red Owl?",
  "is Max a good name for a dog?", "what do you think of the name Luna for a cat?",
  "should I call my podcast Late Night Thoughts?")
S("neg_content_given", N, "how does this sound for a toast: to friends old and new?",
  "rate this joke: why did the chicken cross the road? to get to the other side",
  "I wrote this line for my song: the night is young and so are we, what do you think?",
  "does this sound good for a tagline: coffee that wakes you up?")
S("neg_content_given", N, "what does this word mean: ephemeral?", "what does the phrase break a leg mean?",
  "what's the meaning of the word serendipity?", "translate this: je suis fatigué",
  "what does carpe diem mean?")
S("neg_content_given", N, "I'm thinking of saying 'sorry I can't make it' to my boss, is that too blunt?",
  "if I text her 'we need to talk', is that scary?", "is it rude to say 'per my last email'?",
  "should I write 'best regards' or 'cheers' at the end?")
S("neg_content_given", N, "my answer is 42 for six times seven, is that right?", "is 17 a prime number?",
  "is two plus two five?", "I think the answer is x equals 3, am I right?",
  "the capital of Australia is Sydney, right?")
S("neg_content_given", N, "should I pick the red car or the blue car?", "should I go with the cheaper flight or the faster one?",
  "should I take the job in Denver or stay in Austin?", "should I get a cat or a dog?",
  "pizza or sushi tonight?")

# --- "this / it / here" about things that are not on a screen -------------------------------
S("neg_deictic_offscreen", N, "this weather is crazy", "this heat is unbearable", "this rain won't stop",
  "this traffic is killing me", "this line is so long")
S("neg_deictic_offscreen", N, "this song is stuck in my head", "this headache won't go away", "this cold is the worst",
  "this coffee is great", "this pizza is amazing", "this chair is so uncomfortable")
S("neg_deictic_offscreen", N, "what should I do this weekend?", "what should I make for dinner this time?",
  "what's a good thing to do this evening?", "any plans for this summer?", "I love this time of year")
S("neg_deictic_offscreen", N, "this week has been so long", "this year flew by", "this month is crazy busy",
  "this is my first time talking to you", "this is Tom, by the way")
S("neg_deictic_offscreen", N, "it's so cold in here", "it smells weird in here", "it's really loud here",
  "it's so quiet here", "it's so hot in this room")
S("neg_deictic_offscreen", N, "this is so fun", "this is nice, talking to you", "I like this conversation",
  "this is helpful, thanks", "this chat is great")

# --- declined, negated, or later (not now) --------------------------------------------------
S("neg_not_now", N, "don't look at my screen", "please don't look at my screen", "stop looking at my screen",
  "I don't want you to see my screen", "ignore my screen for now", "don't check my screen, just answer")
S("neg_not_now", N, "no need to take a screenshot", "please don't screenshot anything", "don't take a screenshot",
  "stop taking screenshots", "can you stop taking screenshots?", "no screenshots please")
S("neg_not_now", N, "remind me to take a screenshot of my boarding pass tomorrow",
  "remind me to screenshot the receipt later", "I'll send you a screenshot later",
  "I'll show you my screen later", "next time I'll show you my screen", "maybe I'll show you the picture tomorrow")
S("neg_not_now", N, "never mind, don't look", "forget the screenshot, what's the weather?",
  "actually never mind the screen", "no wait, don't look yet", "you don't need to see anything, just tell me a joke")
S("neg_not_now", N, "turn off screen sharing", "stop sharing my screen", "I'm not going to show you, just guess",
  "I can't show you right now", "I don't have it on my screen anymore", "I closed the window already")
S("neg_not_now", N, "I showed my friend the photo yesterday", "I looked at the report this morning",
  "I checked my email earlier", "I saw the error yesterday but it's gone now", "I already took a screenshot for my records")

# --- typos / ASR in negatives ---------------------------------------------------------------
S("neg_typo_asr", N, "whats up", "hows it goin", "wat time is it", "how r u", "wassup", "sup dude")
S("neg_typo_asr", N, "tel me a joke", "wats the wether", "wats the capitol of france", "thx", "c u later",
  "lol ok")
S("neg_typo_asr", N, "i saw a moovie", "my scren is cracked", "how do i tak a screenshot on mac",
  "recomend a monitor", "wat tv shud i buy")
S("neg_typo_asr", N, "im bored", "u there?", "whats ur name", "gud morning", "gn", "ttyl")
S("neg_typo_asr", N, "set a timr for 5 mins", "remind me 2 call mom", "play sum music", "wats 2 plus 2",
  "hw do i make pancakes")
S("neg_typo_asr", N, "i look so tird today", "see ya tmrw", "lookin forward to the wknd", "i seen that movie",
  "u see the game last nite?")

# --- words shared with screen requests (look / check / show / read / rate / review / picture)
S("neg_word_overlap", N, "check the weather", "check the score of the game", "check if it's going to rain",
  "check the traffic on my way home", "can you check the time in London?", "check if the pharmacy is open")
S("neg_word_overlap", N, "how does the weather look for tomorrow?", "how does the traffic look?",
  "how's the market looking today?", "how does my week look?", "how do the Lakers look this season?")
S("neg_word_overlap", N, "can you see why I'm upset?", "can you see my point?", "do you see what I mean?",
  "can you see yourself living in Paris?", "can't you see I'm busy?", "I don't see the point")
S("neg_word_overlap", N, "show me how to tie a tie", "can you show me a picture of a koala?", "show me the weather",
  "show me a recipe for brownies", "show me some stretches for back pain", "show me what you can do")
S("neg_word_overlap", N, "picture this: a world without cars", "can you picture me as a doctor?", "I can't picture it",
  "imagine a house by the lake", "picture yourself on a beach")
S("neg_word_overlap", N, "review the key points of the French revolution", "can you review what we talked about?",
  "what were the reviews like for the new Batman movie?", "how would you rate The Godfather?",
  "what's the exchange rate for euros?", "what's a normal resting heart rate?")
S("neg_word_overlap", N, "I made an error at work today and feel awful", "what's the margin of error in polls?",
  "what's the area code for Chicago?", "what's the dress code for a cocktail party?", "what's a zip code?")
S("neg_word_overlap", N, "what does it mean when a cat purrs?", "what does it mean if I dream about teeth?",
  "what does it mean when your eye twitches?", "what does it mean to be an introvert?",
  "what does it mean when a dog wags its tail?")
S("neg_word_overlap", N, "my shirt lost a button", "why do my knees click?", "what's good form for squats?",
  "how do I become a proofreader?", "what does a code reviewer do?", "is it hard to become a web designer?")
S("neg_word_overlap", N, "read me a joke", "read between the lines", "I love reading mysteries",
  "how fast can people read?", "what should I read next?", "I read a great article yesterday about sleep")

# --- described in words, asking about it (no screen needed) --------------------------------
S("neg_content_given", N, "my knee hurts when I run, is this normal?", "my cat sleeps sixteen hours a day, is that normal?",
  "I've had a headache for three days, is that normal?", "my baby hiccups a lot, is that normal?",
  "my phone battery dies by noon, is that normal?")
S("neg_content_given", N, "I'm wearing a red dress with white dots, is that ok for a wedding?",
  "I have a blue shirt and brown pants, do they match?", "does a black belt go with brown shoes?",
  "is it ok to wear jeans to a job interview?", "I'm thinking of wearing sneakers with my suit, too casual?")
S("neg_content_given", N, "which one is bigger, the sun or the moon?", "which one is healthier, rice or quinoa?",
  "which came first, the chicken or the egg?", "which is faster, a cheetah or a car?",
  "which is older, Rome or Athens?")
S("neg_content_given", N, "is this a good opening line: hi, I noticed you like hiking?",
  "my tweet says just finished my first marathon, does that sound braggy?",
  "my subject line says quick question, is that ok?", "I'm going to tell my boss I need Friday off, does that sound ok?",
  "does 'looking forward to hearing from you' sound too formal?", "is 'kind regards' too stiff?")
S("neg_content_given", N, "no need to look, I'll just describe it: it's a red dress with white dots",
  "I'll describe it: it's a small blue logo with a fox, does that sound good?",
  "it's a two bedroom for 1500 a month near downtown, is that a good deal?",
  "the laptop has 16 gigs of RAM and costs 900 dollars, worth it?")

# --- "this" used in a story, not pointing at anything -------------------------------------
S("neg_deictic_offscreen", N, "this guy at work keeps bugging me", "this girl I like won't text back",
  "this teacher gave me a bad grade for no reason", "there's this place downtown that sells great tacos",
  "this new diet I'm trying is really hard", "I heard this joke yesterday about a duck")
S("neg_deictic_offscreen", N, "I had this weird dream last night", "I've got this feeling something's wrong",
  "I met this really nice lady at the bus stop", "there's this song I can't remember the name of",
  "I have this friend who always cancels plans")

# --- more emotions / states -----------------------------------------------------------------
S("neg_emotion", N, "ugh I'm so frustrated with my boss", "I feel sick", "my back hurts", "I'm so sleepy",
  "I'm proud of my kid", "I'm kind of scared", "I'm really grateful for my friends")

# --- more not-now ------------------------------------------------------------------------
S("neg_not_now", N, "I'll show you later, first tell me a joke", "I'll share my screen after lunch",
  "remind me to show you my essay tonight", "I don't need you to look at anything", "don't read my messages",
  "I'll send you the link tomorrow")

# --- more typo / ASR negatives ---------------------------------------------------------------
S("neg_typo_asr", N, "wats the time", "plz tell me a story", "how do u make coffee", "whos the presidant",
  "lets play a game", "i need advise", "wat shud i eat")
S("neg_typo_asr", N, "wat do u think about ai", "hows the wether looking", "can u here me", "r u there",
  "chek the weather", "look up pizza places near me")

# --- more hard negatives (second pass after the first training run) ------------------------
S("neg_screen_words", N, "which laptop has the best display?", "does the iPad have a good screen?",
  "which TV has the best picture quality?", "what's the best screen size for a phone?", "is a bigger screen worth it?",
  "which phone has the brightest screen?")
S("neg_screen_words", N, "my TV screen has a line across it", "the touchscreen in my car stopped working",
  "my phone screen keeps turning off by itself", "my screen rotates when I don't want it to",
  "why is there a green line on my monitor?", "my monitor says no signal")
S("neg_screen_words", N, "how do I change my lock screen wallpaper?", "how do I split my screen on a Mac?",
  "how do I make the text bigger on my phone?", "how do I rotate my screen?", "how do I turn off the screen timeout?",
  "how do I turn off screen time limits?")
S("neg_screen_words", N, "I love my new ultrawide monitor", "we mounted the TV above the fireplace",
  "my grandpa still has an old tube TV", "I fell asleep in front of the TV", "kids these days are glued to their screens",
  "I work on three monitors")
S("neg_photo_camera", N, "can you make me a logo?", "design a poster for my yard sale", "generate a picture of a cat in space",
  "create an image of a sunset", "sketch a house for me", "make me a meme about Mondays")
S("neg_photo_camera", N, "how many megapixels do I need?", "what's the best phone for photos?", "should I get a GoPro?",
  "is a ring light worth it?", "what's a good tripod?", "how do I clean a camera lens?")
S("neg_photo_camera", N, "how do I make a slideshow of my photos?", "how do I share photos with my family?",
  "how do I remove red eye from pictures?", "how do I blur the background in a photo?", "how do I turn a photo into a PDF?")
S("neg_deictic_offscreen", N, "it's so bright in here", "it's freezing in here", "there's a fly in here", "it's dark in here",
  "it's stuffy in this office", "there's a weird noise in here")
S("neg_deictic_offscreen", N, "this morning was rough", "this soup is too salty", "this mattress is killing my back",
  "this neighborhood is so quiet", "this city is so expensive", "this flight is taking forever")
S("neg_content_given", N, "what do you think of the name Ember for a candle shop?", "is The Daily Grind a good coffee shop name?",
  "my username is coolcat99, is that lame?", "my password is my dog's name, is that safe?",
  "is Dear Sir or Madam too old fashioned?")
S("neg_content_given", N, "I'm going to reply sounds good, see you then, is that fine?",
  "should I say hey or hi in a work email?", "is it ok to start an email with hey guys?",
  "should I end my text with a period?", "is it weird to sign a text with love, mom?")
S("neg_request", N, "make up a riddle", "tell me a scary story", "write a tweet about Mondays", "give me three names for a cat",
  "write a short bio for a yoga teacher", "come up with a slogan for a bakery")
S("neg_request", N, "translate where is the train station into Italian", "spell rhythm", "define ubiquitous",
  "what rhymes with orange?", "use serendipity in a sentence", "what's the plural of octopus?")
S("neg_advice", N, "how do I check if a link is safe?", "how can I tell if an email is fake?",
  "what should I do if I clicked a phishing link?", "how do I block pop ups?", "how do I get rid of malware?",
  "how do I know if a text from my bank is real?")
S("neg_advice", N, "how do I make my resume stand out?", "what font should I use for my resume?",
  "how long should my essay intro be?", "how do I write a good cover letter?", "should my resume be one page?")
S("neg_advice", N, "what should I look for when buying a used car?", "how do I know if an apartment listing is a scam?",
  "what's a good price for a used iPhone?", "how do I spot fake reviews?", "when is the best time to book flights?")
S("neg_advice", N, "how do I read a nutrition label?", "how do I read a stock chart?", "how do I read sheet music?",
  "how do I read a map?", "how do I read a tape measure?")
S("neg_opinion_topic", N, "what's the best color for a kitchen?", "do you like modern art?", "what do you think of minimalism?",
  "are tattoos unprofessional?", "is it rude to text during dinner?", "do you like jazz?")
S("neg_smalltalk", N, "good afternoon", "what's happening", "how's life?", "nice to meet you", "it's me again",
  "long day, huh?")
S("neg_smalltalk", N, "can I ask you something?", "I have a question", "can you help me?", "I need help",
  "quick question", "can we talk?", "got a minute?")
S("neg_emotion", N, "I'm overwhelmed", "I'm so excited I could scream", "I just want to scream", "I feel great today",
  "I'm in a good mood", "I'm so embarrassed")
S("neg_see_look", N, "look, I'm sorry", "look, it's complicated", "look, I've had a long day",
  "listen, I have to tell you something", "look, can you just help me with dinner ideas?")
S("neg_see_look", N, "I need to look my best for the interview", "how can I look more professional?",
  "how do I look younger?", "what looks good with a denim jacket?", "what haircut would look good on a round face?")
S("neg_see_look", N, "I'll look at it later", "I'll check it tomorrow", "let me look into it and get back to you",
  "I'll see about that", "we'll see how it goes")
S("neg_see_look", N, "did you see the news today?", "have you seen Oppenheimer?", "I've seen better days",
  "what do you see yourself doing in five years?", "where do you see AI in ten years?", "let's see a movie tonight")
S("neg_typo_asr", N, "hw r u doin", "gud nite", "wat can u do", "tell me a jok", "i ned help", "wats ur fav movie",
  "is it gonna rain 2day", "how do i fix my scren")
S("neg_not_now", N, "I'll show you the dress when it arrives", "once I finish the essay I'll let you read it",
  "when I get home I'll send you a picture", "remind me to show you my logo tomorrow", "I'll screenshot it later",
  "I don't want to share my screen")

# ============================================================================================
# MULTI-TURN (context = earlier user lines)
# ============================================================================================
# ---- positives: the earlier lines set up something on the screen, the turn points at it ----
MP("mt_pos", P, ("I'm shopping for a dress", ["what about this one?", "is this one better?", "this one?"]),
   ("I'm looking for a new jacket online", ["what about this one?", "how about this one?"]),
   ("I'm browsing sneakers on Nike's site", ["what do you think of this one?", "this one?"]))
MP("mt_pos", P, ("I'm shopping for a couch", ["what about this one?", "is this one nice?"]),
   ("I'm looking at rugs online for my living room", ["would this work?", "what about these?"]),
   ("I'm buying a gift online for my dad", ["is this one nice?", "too expensive?"]))
MP("mt_pos", P, ("I'm writing my resume", ["does it look ok?", "how does it look?"]),
   ("I just finished my cover letter", ["is it good?", "does it read well?"]),
   ("I updated my LinkedIn profile", ["does it look ok?", "how does it look?"]))
MP("mt_pos", P, ("I'm working on my essay", ["does it read well?", "is this paragraph ok?"]),
   ("I'm drafting an email to my landlord", ["does it sound ok?", "is it too harsh?"]),
   ("I wrote a cover letter for the barista job", ["is it ok?", "would you hire me?"]))
MP("mt_pos", P, ("I'm designing a logo for my bakery", ["thoughts?", "does it work?"]),
   ("I made a poster for our bake sale", ["what do you think?", "is it too busy?"]),
   ("I just redesigned my homepage", ["be honest", "what do you think?"]))
MP("mt_pos", P, ("I'm building a website for my band", ["how does it look so far?", "is the font readable?"]),
   ("I'm making slides for my presentation", ["is this slide too busy?", "does this flow?"]),
   ("I'm making a birthday invitation in Canva", ["cute?", "is it readable?"]))
MP("mt_pos", P, ("I'm comparing laptops on Amazon", ["which one should I pick?", "which is the better deal?"]),
   ("I'm looking at hotel options in Lisbon", ["which one would you choose?", "which one is best?"]),
   ("I found three flights to Denver online", ["which is the better deal?", "which one should I book?"]))
MP("mt_pos", P, ("I'm filling out my visa application online", ["is this right?", "what do I put here?"]),
   ("I'm doing my taxes on TurboTax", ["did I fill this in right?", "what does this field mean?"]),
   ("I'm signing up for a gym on their website", ["what do I put here?", "which plan should I pick?"]))
MP("mt_pos", P, ("my code won't compile", ["what does this mean?", "can you see what's wrong?"]),
   ("I'm getting an error when I run my app", ["what's going on here?", "why is it doing that?"]),
   ("the website won't load properly", ["can you see what's wrong?", "what's this message?"]))
MP("mt_pos", P, ("look at this error", ["what about now?", "and now?", "did that fix it?"]),
   ("does my layout look centered?", ["better?", "what about now?"]),
   ("why won't this page load?", ["now?", "ok how about now?"]))
MP("mt_pos", P, ("look at this", ["well?", "see?"]), ("check this out", ["so?", "pretty cool right?"]),
   ("I want to show you something", ["well?", "and?"]), ("can you see my screen?", ["thoughts?", "see?"]))
MP("mt_pos", P, ("I got a weird text from my bank", ["is it legit?", "should I click it?"]),
   ("I got an email saying I won a prize", ["is this a scam?", "what do you make of it?"]),
   ("there's a popup on my laptop", ["is it legit?", "should I close it?"]))
MP("mt_pos", P, ("my friend sent me a meme", ["do you get it?", "what's the joke?"]),
   ("my brother sent me this comic", ["can you explain it?", "is it funny?"]),
   ("I found this on reddit", ["do you get it?"]))
MP("mt_pos", P, ("I'm stuck on a level in this game", ["what should I do next?", "where do I go from here?"]),
   ("I'm playing chess online", ["what's my best move?", "any hints?"]),
   ("I'm doing a sudoku on my phone", ["any hints?", "where does the 7 go?"]))
MP("mt_pos", P, ("I'm editing photos from my trip", ["is this one good?", "which is better?"]),
   ("I'm picking a profile picture", ["which one looks best?", "is this one good?"]),
   ("I'm choosing a photo for my dating profile", ["does this one work?", "which one looks best?"]))
MP("mt_pos", P, ("I'm learning Python", ["can you check my solution?", "is this right?"]),
   ("I'm writing a SQL query for work", ["why doesn't this work?", "is this right?"]),
   ("I'm doing a coding interview practice problem", ["how's it look?", "why doesn't this work?"]))
MP("mt_pos", P, ("I'm reading a contract from my landlord", ["what does this part mean?", "should I be worried about this?"]),
   ("I'm reading a research paper", ["can you explain this section?", "what does this graph show?"]),
   ("I'm looking at my lab results on the patient portal", ["is this normal?", "what does this part mean?"]))
MP("mt_pos", P, ("tell me a joke", ["wait, look at this", "take a screenshot"]),
   ("what's the weather like?", ["ok look at this", "can you see my screen?"]),
   ("I'm bored", ["check this out", "look what I found"]),
   ("what's the capital of Peru?", ["can you see my screen?", "check this out"]))
MP("mt_pos", P, ("I'm looking at the map on my phone", ["which way should I go?", "where am I?"]),
   ("I'm on Google Maps right now", ["which route is faster?", "how far is it?"]))
MP("mt_pos", P, ("I'm working on a budget spreadsheet", ["does this add up?", "is this formula right?"]),
   ("I made a chart for my presentation", ["is it clear?", "what stands out to you?"]))
MP("mt_pos", P, ("I found a recipe online", ["how long will this take?", "can I substitute anything here?"]),
   ("I'm looking at a recipe for curry", ["is this hard to make?", "how long will this take?"]))
MP("mt_pos", P, (["hi", "I need help with something"], ["can you look at this?", "see this?"]),
   ("hey", ["what's this?", "can you check this for me?"]),
   (["hello", "are you there?"], ["what's this?", "see this?"]))
MP("mt_pos", P, ("I'm watching a video on YouTube", ["who is this guy?", "where was this filmed?"]),
   ("I'm watching a documentary on my laptop", ["what's he holding?", "what's that building?"]))
MP("mt_pos", P, ("I'm choosing paint colors in this app", ["what do you think?", "too dark?"]),
   ("I'm planning my kitchen in this design tool", ["does it work together?", "which looks better?"]))
MP("mt_pos", P, (["I'm replying to a client", "I wrote a draft"], ["can I send it?", "is the tone ok?"]),
   ("I need to answer my teacher's email", ["does this sound right?", "is it ok?"]),
   (["I'm writing a birthday card message for my mom", "I typed it out"], ["does this sound right?", "is it sweet enough?"]))
MP("mt_pos", P, ("I'm trying to set up my new router", ["which option do I pick?", "what does this mean?"]),
   ("I'm installing a printer driver", ["which option do I pick?", "is this the right one?"]),
   ("I'm updating my phone", ["is this the right screen?", "should I tap continue?"]))
MP("mt_pos", P, ("take a screenshot", ["and this one?", "what about this?"]),
   ("look at my screen", ["now look at this", "check this one too"]))
MP("mt_pos", P, ("I got my test results back online", ["how did I do?", "are these good?"]),
   ("my report card just came out on the portal", ["is this bad?", "are these good?"]))
MP("mt_pos", P, ("I'm writing an Instagram caption", ["is this cringe?", "does it go with the photo?"]),
   ("my friend posted this on Facebook", ["what do you think she means?", "should I comment?"]))
MP("mt_pos", P, ("my ex just texted me", ["what do you think he means by this?", "how should I reply to this?"]),
   ("my boss sent me a message on Slack", ["does she sound mad?", "how should I answer this?"]))
MP("mt_pos", P, ("I'm on Amazon looking at headphones", ["are these reviews fake?", "is this a good price?"]),
   ("I'm checking out a used car listing", ["is this a good deal?", "anything sketchy here?"]))
MP("mt_pos", P, ("I'm doing my online math homework", ["is this right?", "how do I solve this one?"]),
   ("I'm taking a practice quiz", ["which answer is it?", "is it B or C?"]))
MP("mt_pos", P, ("I'm editing a video for my channel", ["does this transition look ok?", "is this part too long?"]),
   ("I'm looking at apartments on Zillow", ["is this one a good deal?", "what do you think of this kitchen?"]))
MP("mt_pos", P, ("I'm looking at my calendar app", ["which day looks best for a meeting?", "am I free here?"]),
   ("I'm in my banking app", ["what's this charge?", "why is this pending?"]))

# ---- negatives: same kind of turn, but nothing on the screen is meant ----
MP("mt_neg", N, ("tell me a joke", ["another one?", "again?"]), ("tell me a riddle", ["one more?", "well?"]),
   ("give me a fun fact", ["another one please", "more"]), ("tell me a knock knock joke", ["again?", "well?"]))
MP("mt_neg", N, ("I got a haircut yesterday", ["do you think it looks ok?", "does it look good?"]),
   ("I painted my bedroom last weekend", ["does it look ok?", "how does it look?"]),
   ("I baked a cake for my mom's birthday", ["does it look good?", "is it good?"]),
   ("I planted a garden this spring", ["how does it look?"]))
MP("mt_neg", N, ("I think we should move to Denver next year", ["thoughts?", "what do you think?"]),
   ("I'm thinking about quitting my job to travel", ["good idea?", "well?"]),
   ("I want to get a tattoo of my dog's name", ["be honest", "thoughts?"]),
   ("my plan is to run a marathon in March", ["what do you think?", "well?"]))
MP("mt_neg", N, ("I can't decide between pizza and sushi for dinner", ["which one should I pick?", "help me decide"]),
   ("should I study biology or chemistry?", ["which is better?", "which one would you choose?"]),
   ("I'm torn between a beach trip and a ski trip", ["which one should I pick?"]),
   ("Paris or Rome for my honeymoon?", ["which is better?", "help me decide"]))
MP("mt_neg", N, ("the capital of Australia is Sydney", ["am I right?", "right?"]),
   ("I think spiders are insects", ["is that correct?", "is this right?"]),
   ("my answer is 42 for six times seven", ["is this right?", "am I right?"]),
   ("I read that humans have five senses", ["is that correct?", "right?"]))
MP("mt_neg", N, ("what time is it in Tokyo?", ["and in London?", "what about now?"]),
   ("what's the weather in Paris?", ["what about tomorrow?", "and now?"]),
   ("how's traffic on the way to work?", ["and now?", "what about later?"]),
   ("what's the score of the game?", ["now?", "what about now?"]))
MP("mt_neg", N, ("tell me a story about a dragon", ["and then what?", "keep going", "so?"]),
   ("tell me about the Roman empire", ["go on", "what happened next?"]),
   ("explain how volcanoes work", ["and?", "keep going"]))
MP("mt_neg", N, ("take a screenshot", ["thanks! now tell me a joke", "ok never mind, what's the weather tomorrow?"]),
   ("look at my screen", ["thank you", "cool, how tall is Mount Everest?"]),
   ("can you see this chart?", ["thanks, set a timer for 5 minutes", "great, that's all"]),
   ("check out this photo", ["got it, thanks", "ok, now play some music"]))
MP("mt_neg", N, ("I want to make lasagna tonight", ["what do I need?", "how long will it take?"]),
   ("I'm cooking chicken curry", ["any tips?", "how spicy should it be?"]),
   ("I'm baking cookies later", ["how long will it take?", "any tips?"]))
MP("mt_neg", N, ("I'm reading Harry Potter", ["is it good?", "who's your favorite character?"]),
   ("I just finished reading 1984", ["what did you think of it?", "is the ending sad?"]),
   ("I started a new mystery novel", ["is it good?", "should I keep going?"]))
MP("mt_neg", N, ("I watched Inception last night", ["have you seen it?", "what did you think of the ending?"]),
   ("I'm watching The Office on Netflix", ["is it worth finishing?", "who's your favorite character?"]),
   ("I saw a great movie yesterday", ["guess which one", "have you seen any good movies lately?"]))
MP("mt_neg", N, ("I had a fight with my sister", ["what should I do?", "any advice?"]),
   ("I'm nervous about my exam tomorrow", ["can you help?", "look, I don't know what to do"]),
   ("my boss yelled at me today", ["what do you think?", "look, I don't know what to do"]))
MP("mt_neg", N, ("hi", ["how are you?", "what's up?"]), ("hello", ["what can you do?", "can you hear me?"]),
   ("good morning", ["how are you?", "what's up?"]))
MP("mt_neg", N, ("I told you it would rain today", ["see?", "see, I was right"]),
   ("I said the Lakers would win", ["told you", "see? I was right"]),
   ("I knew the movie would be bad", ["see?"]))
MP("mt_neg", N, ("I'm thinking of buying a new monitor", ["is 27 inch too big?", "what brand is best?"]),
   ("I want a new TV for the living room", ["is OLED worth it?", "how much should I spend?"]))
MP("mt_neg", N, ("I'm shopping for a dress", ["what colors are in style this year?", "where should I shop?"]),
   ("I need a dress for my cousin's wedding", ["what length is good for a wedding?", "how much should I spend?"]))
MP("mt_neg", N, ("I'm writing my resume", ["how long should it be?", "should I include a photo?", "what skills should I list?"]),
   ("I'm working on my essay", ["how do I start it?", "how long should it be?"]))
MP("mt_neg", N, ("I'm learning Python", ["what's a list comprehension?", "how long does it take to learn?"]),
   ("I'm learning to code", ["should I learn Django or Flask?", "what should I build first?"]))
MP("mt_neg", N, ("can you see my screen?", ["no wait, never mind", "actually forget it"]),
   ("look at this", ["oops, wrong window, ignore that", "never mind, I figured it out"]))
MP("mt_neg", N, ("what's a good camera for beginners?", ["and for video?", "is it expensive?"]),
   ("I want to get into photography", ["what about lenses?", "what should I shoot first?"]))
MP("mt_neg", N, ("I'm going to a wedding next week", ["what should I wear?", "what should I bring?"]),
   ("I have a job interview on Monday", ["any tips?", "how early should I get there?"]))
MP("mt_neg", N, ("my phone screen cracked", ["can I fix it myself?", "is it covered by warranty?"]),
   ("my laptop screen is flickering", ["should I just buy a new one?", "how much will it cost to fix?"]))
MP("mt_neg", N, ("I'm bored", ["entertain me", "tell me something"]), ("I can't sleep", ["any ideas?", "what should I do?"]))
MP("mt_neg", N, ("what's the capital of Peru?", ["and Chile?", "are you sure?"]),
   ("how far is the moon?", ["what about Mars?", "really?"]))
MP("mt_neg", N, ("I'm planning a trip to Japan", ["which city should I visit first?", "is it expensive?"]),
   ("I'm going to Lisbon in May", ["what should I pack?", "what's the food like?"]))
MP("mt_neg", N, ("my daughter drew a picture of our family", ["isn't that sweet?", "should I frame it?"]),
   ("I painted a landscape in art class", ["how do I get better?", "what should I paint next?"]),
   ("I knitted a scarf for my husband", ["what should I make next?", "isn't that sweet?"]))
MP("mt_neg", N, ("I took a screenshot of my boarding pass yesterday", ["do airlines accept that?", "was that a good idea?"]),
   ("I sent my boss a screenshot this morning", ["should I have sent the file instead?"]))
MP("mt_neg", N, ("look at this", ["ok thanks, what's the weather like today?", "thanks, that's all I needed"]),
   ("check this out", ["cool, anyway, how are you?"]))
MP("mt_neg", N, ("I'm designing a logo for my bakery", ["what colors are trendy right now?", "how much should I charge?"]),
   ("I'm building a website for my band", ["how long does it usually take?", "which hosting is cheapest?"]))
MP("mt_neg", N, ("here's my paragraph: I am a hard worker who loves teams", ["is it ok?", "can you make it better?"]),
   ("my tagline is: fresh bread every morning", ["does it sound good?", "is it catchy?"]))
MP("mt_neg", N, ("I want to get a dog", ["what breed is best for apartments?", "what should I feed it?"]),
   ("my neighbor's cat keeps visiting", ["is that normal?", "what should I do?"]))
MP("mt_neg", N, ("there's this guy at work who keeps taking credit for my ideas", ["what should I do?", "should I say something?"]),
   ("my friend keeps borrowing money and not paying me back", ["am I overreacting?", "is that normal?"]))
MP("mt_neg", N, ("my car is making a weird noise", ["what could it be?", "is it serious?"]),
   ("my dishwasher keeps beeping", ["what does it mean?", "can I fix it myself?"]))
MP("mt_neg", N, ("I'm writing a speech for my sister's wedding", ["should I add a joke?", "how should I start?"]),
   ("I need to write a toast for my dad's retirement", ["how long should it be?", "any tips?"]))
MP("mt_neg", N, ("I need a name for my bakery", ["what about Rise and Shine?", "any other ideas?"]),
   ("help me name my podcast", ["how about Late Night Thoughts?", "something shorter?"]))
MP("mt_neg", N, ("I'm getting my hair cut tomorrow", ["what style should I ask for?", "should I go short?"]),
   ("I'm going to the mall later", ["what should I get?", "any ideas?"]))
MP("mt_neg", N, ("what's the weather like today?", ["cool", "thanks"]), ("tell me a fun fact", ["interesting", "nice, thanks"]))
MP("mt_neg", N, ("I want to redecorate my living room", ["what colors should I paint it?", "what style is popular?"]),
   ("I'm moving into a new apartment", ["what furniture do I need?", "any tips?"]))
MP("mt_neg", N, ("I'm editing photos from my trip", ["what's the best editing app?", "should I shoot in RAW next time?"]),
   ("I'm doing my taxes on TurboTax", ["when is the tax deadline?", "can I deduct my home office?"]),
   ("I'm comparing laptops on Amazon", ["how much RAM do I need?", "is a Mac better for students?"]))
MP("mt_neg", N, ("I'm playing chess online", ["who's the best chess player ever?", "how do I get better at chess?"]),
   ("I'm stuck on a level in this game", ["ugh, I'm so tired", "should I just take a break?"]),
   ("I'm on Google Maps right now", ["what's the capital of Portugal?", "how many kilometers is a mile?"]))
MP("mt_neg", N, ("I'm writing a SQL query for work", ["what's the difference between a left and inner join?", "is SQL hard to learn?"]),
   ("my code won't compile", ["ugh, I hate programming", "should I switch to Python?"]),
   ("I'm building an app", ["how do I publish it on the app store?", "how much do developers make?"]))
MP("mt_neg", N, ("I'm making slides for my presentation", ["how many slides should I have?", "how do I stop being nervous when I present?"]),
   ("I'm working on a budget spreadsheet", ["how much should I save each month?", "what's the 50 30 20 rule?"]))
MP("mt_neg", N, ("my sister keeps borrowing my clothes", ["how do I tell her to stop?", "is that normal?"]),
   ("my teacher gave me a bad grade", ["is that fair?", "what should I do?"]),
   ("my roommate plays music really loud", ["am I overreacting?", "should I say something?"]))
MP("mt_neg", N, ("my coworker sent me a rude email yesterday and I already deleted it", ["should I report it?", "am I overreacting?"]),
   ("my kid said a funny thing at dinner", ["isn't that cute?", "kids are funny, right?"]))
MP("mt_neg", N, ("I heard that goldfish have a three second memory", ["is that true?", "right?"]),
   ("my friend says the earth is flat", ["is this right?", "how do I prove him wrong?"]),
   ("I think the answer is Paris", ["am I right?", "is that correct?"]))
MP("mt_neg", N, ("take a screenshot", ["wait, don't", "no, cancel that"]),
   ("check my screen", ["actually never mind, I fixed it", "forget it, it's gone"]),
   ("I want to show you something", ["oh wait, I can't find it", "hmm, never mind"]))
MP("mt_neg", N, ("I have a rash on my arm", ["should I see a doctor?", "what could it be?"]),
   ("my knee has been hurting", ["is it serious?", "what should I do?"]),
   ("I've had a cough for a week", ["is that normal?", "should I be worried?"]))
MP("mt_neg", N, ("I bought a blue sofa yesterday", ["what color rug goes with it?", "what pillows should I get?"]),
   ("I'm wearing a black suit to the wedding", ["what tie should I wear?", "is that too formal?"]))
MP("mt_neg", N, ("I want to write a poem for my wife", ["can you help?", "what should it be about?"]),
   ("I have to write an essay about climate change", ["where do I start?", "what should my thesis be?"]))
MP("mt_neg", N, ("I'm listening to Taylor Swift", ["what's her best album?", "is she touring this year?"]),
   ("this song is stuck in my head", ["what should I do?", "how do I stop it?"]))
# fmt: on

# --------------------------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------------------------
_ALT_RE = re.compile(r"\{([^{}]*)\}")


def expand(pattern: str) -> list[str]:
    """Expand ``{a|b}`` alternations and ``{@SLOT}`` lists (cartesian product, in order)."""
    parts: list[list[str]] = []
    pos = 0
    for m in _ALT_RE.finditer(pattern):
        parts.append([pattern[pos : m.start()]])
        body = m.group(1)
        if body.startswith("@"):
            parts.append(SLOTS[body[1:]])
        else:
            parts.append(body.split("|"))
        pos = m.end()
    parts.append([pattern[pos:]])
    out = []
    for combo in itertools.product(*parts):
        s = re.sub(r"\s+", " ", "".join(combo)).strip()
        out.append(s)
    return out


def normalize(s: str) -> str:
    s = s.lower().replace("\u2019", "'")
    s = re.sub(r"[^a-z0-9' ]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def core(s: str) -> str:
    """Normalised text without spoken fillers: used to find near duplicates."""
    n = normalize(s)
    stripped = _FILLER_RE.sub("", n + " ").strip()
    stripped = re.sub(r"\s+(please|real quick|for me)$", "", stripped)
    return stripped or n


def asr_style(rng: random.Random, s: str) -> str:
    s = s.lower()
    s = re.sub(r"[^\w' ]+", " ", s)
    if rng.random() < 0.5:
        s = s.replace("'", "")
    return re.sub(r"\s+", " ", s).strip()


def with_prefix(rng: random.Random, s: str) -> str:
    if _FILLER_RE.match(normalize(s) + " ") or normalize(s).split(" ")[0] in {
        "thanks",
        "cool",
        "great",
        "wait",
    }:
        return s
    return rng.choice(PREFIXES) + s


@dataclass
class Row:
    context: list[str]
    text: str
    label: int
    kind: str
    gid: str


def build_rows(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    counters: Counter[str] = Counter()
    for g in GROUPS:
        counters[g.kind] += 1
        g.gid = f"{g.kind}-{counters[g.kind]:03d}"
        pairs: list[tuple[tuple[str, ...], str]] = []
        for ctx, pattern in g.items:
            for e in expand(pattern):
                if (ctx, e) not in pairs:
                    pairs.append((ctx, e))
        if g.cap is not None and len(pairs) > g.cap:
            pairs = rng.sample(pairs, g.cap)
        for ctx, t in pairs:
            rows.append(Row(list(ctx), t, g.label, g.kind, g.gid))
            if g.variants:
                r = rng.random()
                if r < 0.12:
                    rows.append(Row(list(ctx), asr_style(rng, t), g.label, g.kind, g.gid))
                elif r < 0.24:
                    rows.append(Row(list(ctx), with_prefix(rng, t), g.label, g.kind, g.gid))
    return rows


def dedupe(rows: list[Row]) -> list[Row]:
    """Drop exact (normalised) duplicates; fail loudly on conflicting labels."""
    seen: dict[str, Row] = {}
    out = []
    for r in rows:
        key = " || ".join(normalize(c) for c in r.context) + " >> " + normalize(r.text)
        if key in seen:
            if seen[key].label != r.label:
                raise SystemExit(f"conflicting labels for {key!r}: {seen[key].gid} vs {r.gid}")
            continue
        seen[key] = r
        out.append(r)
    return out


def assign_splits(rows: list[Row], rng: random.Random) -> dict[str, str]:
    """Held-out split by template family, stratified by kind.

    Families that share a near-duplicate utterance (same context and same text after removing
    fillers) are merged so a variant can never sit on both sides of the split.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_core: dict[str, str] = {}
    for r in rows:
        key = " || ".join(core(c) for c in r.context) + " >> " + core(r.text)
        find(r.gid)
        if key in by_core:
            a, b = find(by_core[key]), find(r.gid)
            if a != b:
                parent[max(a, b)] = min(a, b)
        else:
            by_core[key] = r.gid
    comp_size: Counter[str] = Counter(find(r.gid) for r in rows)
    comp_kind: dict[str, str] = {}
    for r in rows:
        comp_kind.setdefault(find(r.gid), r.kind)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for comp in sorted(comp_size):
        by_kind[comp_kind[comp]].append(comp)
    split_of_comp: dict[str, str] = {}
    for kind in sorted(by_kind):
        comps = by_kind[kind]
        rng.shuffle(comps)
        total = sum(comp_size[c] for c in comps)
        target = HELDOUT_FRACTION * total
        held = 0
        for c in comps:
            n = comp_size[c]
            take = abs(held + n - target) < abs(held - target)
            split_of_comp[c] = "heldout" if take else "train"
            held += n if take else 0
        if held == 0 and len(comps) >= 2:  # every kind gets at least one held-out family
            smallest = min(comps, key=lambda c: comp_size[c])
            split_of_comp[smallest] = "heldout"
        if all(split_of_comp[c] == "heldout" for c in comps):
            split_of_comp[max(comps, key=lambda c: comp_size[c])] = "train"
    return {r.gid: split_of_comp[find(r.gid)] for r in rows}


# --------------------------------------------------------------------------------------------
# Composed conversations (rule 7 at scale)
# --------------------------------------------------------------------------------------------
# Self-contained single turns keep their label whatever the user said before: an unrelated
# question after a screen request is 0 ("mt_shift"), a new screen request after anything is 1
# ("mt_again"). Utterances whose label depends on context (bare pointers, choices, "this" about
# the physical world, small talk such as "I need help") are never used as the current turn.
SHIFT_CURRENT_KINDS = (
    "neg_facts",
    "neg_request",
    "neg_advice",
    "neg_opinion_topic",
    "neg_emotion",
    "neg_screen_words",
    "neg_photo_camera",
    "neg_see_look",
    "neg_word_overlap",
    "neg_typo_asr",
    "neg_not_now",
    "neg_content_given",
)
AGAIN_CURRENT_KINDS = ("explicit", "check", "read_explain", "code", "typo_asr", "reaction")
# Earlier lines before a new screen request: anything that cannot itself be the referent of
# "this" (so no content given in words and no physical "this").
AGAIN_CONTEXT_KINDS = (
    "explicit",
    "check",
    "read_explain",
    "code",
    "reaction",
    "situational",
    "short",
    "choose",
    "neg_facts",
    "neg_request",
    "neg_advice",
    "neg_opinion_topic",
    "neg_emotion",
    "neg_smalltalk",
)
SHIFT_ROWS = 330
AGAIN_ROWS = 170


def compose(rows: list[Row], split: dict[str, str], rng: random.Random) -> list[tuple[Row, str]]:
    """Multi-turn rows built from single-turn rows of one split (current and earlier lines alike),
    so that no held-out utterance ever appears in a training conversation."""
    single = [r for r in rows if not r.context]
    positives = [r for r in single if r.label == P]
    out: list[tuple[Row, str]] = []
    seen: set[str] = set()

    def by_split(pool: list[Row]) -> dict[str, list[Row]]:
        return {s: [r for r in pool if split[r.gid] == s] for s in ("train", "heldout")}

    screen_lines = by_split(positives)

    def context_for(pool: dict[str, list[Row]], want_screen: bool, s: str) -> list[str]:
        n = rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
        lines = [rng.choice(pool[s]).text for _ in range(n)]
        if want_screen:  # at least one screen request, most often the latest line
            where = n - 1 if rng.random() < 0.6 else rng.randrange(n)
            lines[where] = rng.choice(screen_lines[s]).text
        return lines

    plans = (
        ("mt_shift", N, SHIFT_CURRENT_KINDS, by_split(single), 0.85, SHIFT_ROWS),
        (
            "mt_again",
            P,
            AGAIN_CURRENT_KINDS,
            by_split([r for r in single if r.kind in AGAIN_CONTEXT_KINDS]),
            0.5,
            AGAIN_ROWS,
        ),
    )
    for kind, label, current_kinds, pool, screen_share, count in plans:
        currents = sorted((r for r in single if r.kind in current_kinds), key=lambda r: r.text)
        for i, cur in enumerate(rng.sample(currents, count), 1):
            s = split[cur.gid]
            ctx = context_for(pool, rng.random() < screen_share, s)
            key = " || ".join(normalize(c) for c in ctx) + " >> " + normalize(cur.text)
            if key in seen or normalize(cur.text) in {normalize(c) for c in ctx}:
                continue
            seen.add(key)
            out.append((Row(ctx, cur.text, label, kind, f"{kind}-{i:03d}"), s))
    return out


def build() -> list[dict]:
    rng = random.Random(SEED)
    rows = dedupe(build_rows(rng))
    split = assign_splits(rows, random.Random(SEED + 1))
    composed = compose(rows, split, random.Random(SEED + 2))
    out = []
    labelled = [(r, split[r.gid]) for r in rows] + composed
    for i, (r, s) in enumerate(labelled, 1):
        out.append(
            {
                "id": f"si-{i:05d}",
                "context": r.context,
                "text": r.text,
                "label": r.label,
                "split": s,
                "kind": r.kind,
                "group": r.gid,
            }
        )
    return out


def render(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def summary(records: list[dict]) -> str:
    lines = []
    c = Counter((r["split"], r["label"]) for r in records)
    lines.append(
        f"rows: {len(records)}  positives: {sum(r['label'] for r in records)}  "
        f"multi-turn: {sum(1 for r in records if r['context'])}"
    )
    for s in ("train", "heldout"):
        lines.append(
            f"  {s:8s} total={c[(s, 0)] + c[(s, 1)]:5d}  label1={c[(s, 1)]:4d}  label0={c[(s, 0)]:4d}"
        )
    kc = Counter((r["kind"], r["label"], r["split"]) for r in records)
    kinds = sorted({(r["kind"], r["label"]) for r in records}, key=lambda x: (-x[1], x[0]))
    lines.append(f"  {'kind':24s} label  train heldout")
    for k, lab in kinds:
        lines.append(f"  {k:24s} {lab:5d}  {kc[(k, lab, 'train')]:5d} {kc[(k, lab, 'heldout')]:7d}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_PATH)
    ap.add_argument(
        "--check", action="store_true", help="compare with the existing file, write nothing"
    )
    args = ap.parse_args(argv)
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
    print(f"wrote {args.out} sha256={hashlib.sha256(text.encode()).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
