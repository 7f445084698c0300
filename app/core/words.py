"""Frequent words and phrases of open answers (开放题词频), in Chinese and English.

An answer is cut into clauses at punctuation; in each clause runs of Chinese characters are
segmented with jieba and Latin text is split into lower-case words (a plain plural folds to its
singular: "queues" → "queue"). Stop words of both languages are dropped. A negation keeps the
word it negates, so "不干净", "不算慢", "不难吃" and "not clean" do not count as "干净", "慢", "难吃" and
"clean" (a small user dictionary, ``words_user.dict``, keeps jieba from cutting 不难吃 into 不难 + 吃).

A phrase is two words next to each other in one clause, with no stop word between them
("服务员态度", "friendly staff"). Counts are of answers: a word said twice in one answer counts
once, so a count reads "this many customers wrote it".

jieba loads its dictionary (a second or more) the first time Chinese is segmented, once per
process, without printing anything.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Terms", "Frequencies", "terms", "words_of", "phrases_of", "contains", "frequencies", "is_stop_word"]

#: Answers whose terms are kept in memory: the words page and its click-through read the same answers.
CACHED_ANSWERS = 20_000
#: Longer answers are cut here: nobody writes a useful word beyond it, and segmentation stays fast.
MAX_ANSWER_CHARS = 2_000

STOP_WORDS_ZH = frozenset("""
的 地 得 了 着 过 是 在 和 与 及 或 跟 同 也 就 都 而 且 并 还 又 再 才 只 把 被 给 让 对 向 从 到 为 以 于 之 其
这 那 这个 那个 这些 那些 这里 那里 这儿 那儿 这样 那样 这么 那么 这次 那次 此 该 每 各 某
我 你 您 他 她 它 我们 你们 他们 她们 它们 咱们 大家 自己 人家 别人
一 一个 一下 一些 一点 一点儿 有点 有点儿 有些 一直 一起 一定 一样 一般般
很 挺 蛮 太 更 最 好像 非常 特别 十分 比较 相当 真 真的 确实 实在 简直 超 超级
也是 就是 还是 都是 但 但是 可是 不过 而且 并且 因为 所以 因此 如果 要是 虽然 然后 然而 其实 另外 或者 以及 还有
觉得 感觉 认为 以为 知道 希望 建议 应该 需要 可以 可能 能 会 要 想 去 来 说 做 弄 搞 用 看 给 让 使
吧 呢 啊 吗 呀 哦 噢 嗯 哈 哈哈 啦 嘛 么 哎 唉 呃 哇 喔 哟
个 些 种 次 件 位 家 里 上 下 中 时 后 前 多 少 点
什么 怎么 怎样 怎么样 为什么 哪 哪里 哪个 谁 多少 几
已经 现在 今天 昨天 刚才 时候 总是 经常 每次 有时 有时候 一次 第一次
有 没 没有 不 不是 无 别
""".split())

STOP_WORDS_EN = frozenset("""
a an the and or but nor so yet if then than that this these those there here
i me my mine myself we us our ours you your yours he him his she her hers it its itself they them their theirs
is am are was were be been being do does did doing have has had having get gets got getting
will would shall should can could may might must
to of in on at by for with from into onto about above below over under up down out off again further
as too very really quite just also only even still much many more most some any all each every both few other
such own same what which who whom whose when where why how
not no never nothing none
i'm i've i'd i'll you're you've we're we've they're it's that's there's he's she's
don't doesn't didn't isn't wasn't aren't weren't won't wouldn't can't couldn't shouldn't haven't hasn't hadn't
ok okay yes well lot lots bit thing things one ones way far
""".split())

#: A negation is kept with the words it negates (through stop words: "不是很好", "not very clean").
NEGATIONS_ZH = frozenset({
    "不", "没", "没有", "不是", "不太", "不够", "不怎么", "不大", "无", "别", "不算", "不那么", "没那么", "并不",
    "并没有", "毫无", "不用", "无需",
})
#: jieba's user dictionary: negated words jieba would otherwise cut after the negation's first
#: character (不难吃 → 不难 + 吃), so they count whole.
USER_DICTIONARY = Path(__file__).with_name("words_user.dict")
NEGATIONS_EN = frozenset({
    "not", "no", "never", "nothing", "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "weren't",
    "won't", "wouldn't", "can't", "couldn't", "shouldn't", "haven't", "hasn't", "hadn't",
})
#: Words ending in s that are not plurals.
NOT_PLURAL = frozenset({
    "always", "perhaps", "sometimes", "news", "series", "species", "towards", "afterwards", "whereas",
    "lens", "bus", "gas", "yes", "this", "his", "hers", "its", "ours", "yours", "theirs", "was", "has", "does",
    "less", "unless", "various", "delicious", "nervous", "previous", "serious", "famous", "generous", "gorgeous",
    "plus", "thus", "clothes", "chaos", "status", "bonus", "campus", "virus", "focus",
    "analysis", "basis", "crisis", "tennis", "christmas", "atlas", "canvas",
})

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CLAUSE_BREAK = re.compile(r"[^\w\s'’-]|_|\n")
_PIECES = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<latin>[a-z]+(?:'[a-z]+)*)")
_HAN_ONLY = re.compile(rf"[{_HAN}]+")

_jieba_lock = threading.Lock()
_jieba = None


def segmenter():
    """jieba's tokenizer, its dictionary loaded on first use (quietly, once per process)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                jieba.load_userdict(str(USER_DICTIONARY))
                _jieba = jieba
    return _jieba


def is_stop_word(word: str) -> bool:
    return word in STOP_WORDS_ZH or word.lower() in STOP_WORDS_EN


def _singular(word: str) -> str:
    """A plain English plural without its ending: "queues" → "queue", "dishes" → "dish"."""
    if len(word) < 4 or not word.endswith("s") or word in NOT_PLURAL or "'" in word:
        return word
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith(("shes", "ches", "xes", "zes", "sses")):
        return word[:-2]
    if word.endswith("ies"):
        return word  # "parties" → "party" but "cookies" → "cookie": not worth guessing
    return word[:-1]


def _clause_tokens(clause: str) -> list[str]:
    """The raw tokens of one clause in order: jieba's for Chinese runs, words for Latin text."""
    tokens: list[str] = []
    for piece in _PIECES.finditer(clause):
        if piece.lastgroup == "han":
            tokens.extend(segmenter().lcut(piece.group(), HMM=True))
        else:
            tokens.append(piece.group())
    return tokens


def _kept(tokens: list[str]) -> list[str | None]:
    """Tokens as counted: stop words become None (they break phrases), negations join what they negate."""
    kept: list[str | None] = []
    negation: list[str] = []
    for token in tokens:
        han = bool(_HAN_ONLY.fullmatch(token))
        if negation:
            if is_stop_word(token) or token in NEGATIONS_ZH or token in NEGATIONS_EN:
                negation.append(token)
            else:
                kept.append(_joined([*negation, token if han else _singular(token)]))
                negation = []
            continue
        if token in NEGATIONS_ZH or token in NEGATIONS_EN:
            negation = [token]
            continue
        word = token if han else _singular(token)
        if is_stop_word(token) or is_stop_word(word) or not han and len(word) < 2:
            kept.append(None)
        else:
            kept.append(word)
    if negation:
        kept.append(None)  # a negation with nothing after it says nothing
    return kept


def _joined(parts: list[str]) -> str:
    """Chinese words join without a space, English ones (or a mix) with one."""
    if all(_HAN_ONLY.fullmatch(part) for part in parts):
        return "".join(parts)
    return " ".join(parts)


def _clauses(text: str) -> list[list[str | None]]:
    text = text[:MAX_ANSWER_CHARS].lower().replace("’", "'")
    return [_kept(_clause_tokens(clause)) for clause in _CLAUSE_BREAK.split(text) if clause.strip()]


def words_of(text: str) -> list[str]:
    """The words of an answer as counted, in order, repeats included."""
    return [word for clause in _clauses(text) for word in clause if word is not None]


def phrases_of(text: str) -> list[str]:
    """Two words next to each other in one clause, in order."""
    found = []
    for clause in _clauses(text):
        for first, second in zip(clause, clause[1:]):
            if first is not None and second is not None:
                found.append(_joined([first, second]))
    return found


@dataclass(frozen=True)
class Terms:
    """What one answer contributes to the counts: each word and phrase once."""

    words: frozenset[str]
    phrases: frozenset[str]


@lru_cache(maxsize=CACHED_ANSWERS)
def terms(text: str) -> Terms:
    return Terms(frozenset(words_of(text)), frozenset(phrases_of(text)))


def contains(text: str, term: str) -> bool:
    """Whether the answer counts for ``term`` (a word or a phrase as the counts show it)."""
    found = terms(text)
    return term in found.words or term in found.phrases


@dataclass
class Frequencies:
    """How many answers contain each word and each phrase."""

    answers: int = 0
    words: Counter[str] = field(default_factory=Counter)
    phrases: Counter[str] = field(default_factory=Counter)

    def top_words(self, limit: int) -> list[tuple[str, int]]:
        return _top(self.words, limit, at_least=1)

    def top_phrases(self, limit: int) -> list[tuple[str, int]]:
        """Phrases written in at least two answers: one customer's turn of phrase is not frequent."""
        return _top(self.phrases, limit, at_least=2)


def _top(counts: Counter[str], limit: int, at_least: int) -> list[tuple[str, int]]:
    ranked = sorted(((term, n) for term, n in counts.items() if n >= at_least), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def frequencies(texts: Iterable[str]) -> Frequencies:
    result = Frequencies()
    for text in texts:
        found = terms(text)
        result.answers += 1
        result.words.update(found.words)
        result.phrases.update(found.phrases)
    return result
