"""Which keywords a customer's open text contains: one matcher for every keyword list routing reads
(the default lists are ``app.core.complaint_words``).

Keywords (complaint, category, urgent and rule keywords) all match the same way:

- text and keyword are NFKC-normalised and case-folded, so ``RUDE`` and full-width ``Ｒｕｄｅ``
  find ``rude``;
- a keyword with a Chinese character matches anywhere (Chinese has no spaces); any other keyword
  matches whole words, also with a common English ending (-s, -ed, -ing, -er, -ly, -y, -ness...),
  so ``wait`` finds "waiting" and "waiter" but ``bad`` does not find "badge";
- an occurrence right after a negation does not count: 不/没/没有/不太/不是很/不算... before a Chinese
  keyword, up to three filler words between them (让人, 很, 什么, 觉得...: "没有让人失望",
  "没有什么不满意"); not/no/never/nothing/-n't plus up to two of too/very/so/a/the/as/had... before an
  English one. So "不太慢", "一点也不脏", "not bad", "wasn't too slow", "no complaints" are not
  complaints; "no refund" reads as negated too (accepted so that "no complaints" is not a complaint).
  Write the negative phrase itself as a keyword when the negation is the point (没人通知, never called).

``find_complaints`` adds what a keyword list cannot say: praise under a negation that is not itself
negated (不是很满意, 不推荐, wasn't hot — but not 没有不满意), a comparison that says "less good"
(味道没有以前好了, 没上次的好吃 — but not 没有想象中那么贵), a wait written with its length of at least
``LONG_WAIT_MINUTES`` (排队排了一个小时, waited 45 minutes, took 40 minutes), complaint constructions
whatever their words (``_constructions``: 太X了 and X死了 with an X that is no praise, 三个月都没发过来,
少送了一份, 追着问才知道, 根本没讲清楚, 和图片完全两个东西, never arrived, wouldn't flush), and, for a
text in which none of these found anything and that does not praise without a "but" after the praise,
negative sentiment read by the lexicons and the model that ``pysenti`` and ``vaderSentiment`` ship
(``app.core.sentiment``; negation by the rules here). What a 虽然 clause grants does not count
(虽然等了一会儿，但是…); "not one X" (一根头发都没有) and "less X than" (没有想象中那么吵) negate X. ``clauses_with`` gives the clauses that hold
the complaints, so the category comes from what the complaint is about.

Measured on ``tests/data/comments.tsv`` by ``bench/text_quality.py`` (see bench/README.md).

Default lists avoid single characters and words with everyday harmless uses: no 错 (不错),
no bare 差 (差不多, 出差), no 不好 (不好意思), no 火 (火锅), no bare "fire" (fired).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.core import sentiment
from app.core.complaint_words import NEGATION_FILLERS_ZH, NEGATIONS_ZH, PRAISE_IDIOMS

_EN_NEGATION = re.compile(
    r"(?<![a-z0-9'])(?:not|cannot|no|never|nothing|nobody|without|[a-z]+n't|isnt|wasnt|arent|werent|dont|"
    r"doesnt|didnt)(?:\s+(?:had|have|got|get|seen|felt|too|very|so|that|really|particularly|overly|even|at\s+all|a|an|the|any|to|"
    r"was|were|is|are|be|been|quite|as)){0,2}$"
)
_EN_ENDINGS = "s|es|ed|d|ing|er|ers|est|ly|ily|y|ier|iest|ness"
_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

#: A long wait, said with its length: 排队排了一个小时, 等位等了四十分钟, waited 45 minutes.
LONG_WAIT_MINUTES = 15
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_WAIT = re.compile(
    r"(?:等|排|办|折腾|耗|花|拖|晾|催)[^，。,.!！?？；;]{0,8}?"
    r"(?P<amount>[0-9]+|[一二两三四五六七八九十几]+|半)\s*个?\s*(?:多|半)?\s*(?:个)?\s*"
    r"(?P<unit>小时|钟头|钟|天|分钟|分)"
)
_EN_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60,
}
_EN_WAIT = re.compile(
    r"(?<![a-z])(?:wait|waited|waiting|queued|queuing|took|spent|sat|on\s+hold)\b[^.,;!?]{0,24}?\b"
    r"(?P<amount>[0-9]+|an?|one|two|three|ten|fifteen|twenty|thirty|forty|fifty|sixty)[\s-]+"
    r"(?P<unit>minutes?|mins?|hours?|hrs?)\b"
)
#: Where a clause ends (routing reads the category from the clauses that hold the complaint).
_CLAUSE = re.compile(
    r"[，,。.!！?？;；~～、\n]+|(?=但是|可惜|就是|不过|只是|(?<![a-z])(?:but|though|however)(?![a-z]))"
)


@dataclass(frozen=True)
class KeywordHit:
    keyword: str      # as configured
    question: str     # key of the open question it was found in
    text_index: int   # which of the response's texts, in questionnaire order
    offset: int       # where in that (normalised) text


def normalise(text: str) -> str:
    """NFKC, case-folded, straight apostrophes: how keywords and texts are compared."""
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    word = normalise(keyword).strip()
    if not word:
        return None
    if _CHINESE.search(word):
        return re.compile(re.escape(word))
    body = r"\s+".join(re.escape(part) for part in word.split())
    return re.compile(rf"(?<![a-z0-9]){body}(?:{_EN_ENDINGS})?(?![a-z0-9])")


_FILLERS = tuple(sorted(NEGATION_FILLERS_ZH, key=len, reverse=True))
_NEGATIONS = tuple(sorted(NEGATIONS_ZH, key=len, reverse=True))


@lru_cache(maxsize=4096)
def _literal(keyword: str) -> str:
    """A piece every match of ``keyword`` contains: a cheap ``in`` test skips most keywords."""
    word = normalise(keyword).strip()
    return word if _CHINESE.search(word) else (word.split() or [""])[0]


#: "Less X than": 没有想象中那么吵, 没有说的那么快, 不像网上说的那样 negate what follows.
_LESS_THAN = re.compile(r"(?:没有?|不如|不像)(?!想到|料到)[\u3400-\u9fff]{1,6}?(?:那么|这么|那样|这样)$")


def _negation_start(before: str) -> int | None:
    """Where the negation that governs what follows ``before`` starts; None when there is none."""
    before = before.rstrip()
    compared = _LESS_THAN.search(before[-16:])
    if compared is not None:
        return len(before) - len(compared.group())
    match = _EN_NEGATION.search(before[-40:])
    if match is not None:
        return len(before) - 40 + match.start() if len(before) > 40 else match.start()
    for _ in range(4):
        negation = next((n for n in _NEGATIONS if before.endswith(n)), None)
        if negation is not None:
            return len(before) - len(negation)
        filler = next((f for f in _FILLERS if before.endswith(f)), None)
        if filler is None:
            return None
        before = before[: -len(filler)].rstrip()
    return None


def _negated(before: str) -> bool:
    return _negation_start(before) is not None


_ONE_OF = re.compile(r"(?:一|半)\s*[根只个点丝滴块粒张片条处]?\s*$")
_NONE_AFTER = re.compile(r"\s*(?:都|也)\s*(?:没有?|不|找不到|看不到|见不到)")


def _none_at_all(text: str, start: int, end: int) -> bool:
    """"Not one X": 一根头发都没有, 一只蚊子也没有, 一点异味都没有 (the negation follows the word)."""
    return bool(_ONE_OF.search(text[max(0, start - 3): start])) and bool(_NONE_AFTER.match(text, end))


#: A concession: what a 虽然 clause grants, the clause after it outweighs (虽然等了一会儿，但是服务员一直在道歉).
_CONCESSION = re.compile(r"(?:虽然|虽说|尽管|虽)[^。！!？?；;]*?(?=[，,]?\s*(?:但是|但|可是|不过|却|还是))")


def _conceded(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _CONCESSION.finditer(text)]


@lru_cache(maxsize=256)
def _prepared(keywords: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """Each distinct keyword of a list with its pattern and literal, once per list (the lists are a
    settings' tuples), not once per answer."""
    return tuple(
        (keyword, pattern, _literal(keyword))
        for keyword in dict.fromkeys(keywords) if (pattern := _keyword_pattern(keyword)) is not None
    )


def find_keywords(
    texts: Sequence[tuple[str, str]], keywords: Iterable[str], negation: bool = True
) -> list[KeywordHit]:
    """The first counting occurrence of each keyword in ``texts`` ((question key, text) pairs), in text order.

    ``negation=False`` counts negated occurrences too (topic words: 没有答复 is still about a reply)."""
    patterns = _prepared(keywords if isinstance(keywords, tuple) else tuple(keywords))
    found: dict[str, KeywordHit] = {}
    for index, (question, text) in enumerate(texts):
        normalised = normalise(text)
        for keyword, pattern, literal in patterns:
            if literal not in normalised or keyword in found:
                continue
            for match in pattern.finditer(normalised):
                if not negation or not (
                    _negated(normalised[: match.start()]) or _none_at_all(normalised, match.start(), match.end())
                ):
                    found[keyword] = KeywordHit(keyword, question, index, match.start())
                    break
    return sorted(found.values(), key=lambda hit: (hit.text_index, hit.offset))


def _minutes(amount: str, unit: str) -> float:
    if amount in _EN_NUMBERS:
        number: float = _EN_NUMBERS[amount]
    elif amount.isdigit():
        number = int(amount)
    elif amount == "半":
        number = 0.5
    else:  # 十五, 四十, 二十几, 十几, 几
        tens, _, ones = amount.replace("几", "五" if "十" in amount else "三").partition("十")
        if "十" in amount:
            number = (_ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)
        else:
            number = sum(_ZH_DIGITS.get(char, 0) for char in amount)
    if unit.startswith(("小时", "钟头", "钟", "hour", "hr")):
        return number * 60
    if unit == "天":
        return number * 24 * 60
    return number


def _long_waits(text: str) -> list[tuple[int, str]]:
    found = []
    for pattern in (_ZH_WAIT, _EN_WAIT):
        for match in pattern.finditer(text):
            if _minutes(match["amount"], match["unit"]) >= LONG_WAIT_MINUTES and not _negated(text[: match.start()]):
                found.append((match.start(), match.group()))
    return found


_BEFORE = r"(?:以前|从前|上次|之前|原来|过去|以往|当初)"
_COMPARED = re.compile(
    r"(?:没有?|不如|比不上)(?:以前|从前|上次|之前|原来|过去|以往|当初|想象中?|预期|宣传的?|网上说的|照片|图片|"
    r"传说中?|说的|介绍的?|广告|评价|别人说的)[^，。,.!！?？；;]{0,8}?"
    r"(?P<praise>[\u3400-\u9fff]{1,2})"
)
#: Worse than before, said without a praise word: 大不如从前, 比以前差, 比上次贵.
_WORSE_THAN_BEFORE = re.compile(
    rf"(?:大?不如|比不上|不及|赶不上){_BEFORE}|比{_BEFORE}[^，。,.!！?？；;]{{0,4}}?(?:差|贵|慢|少|小|难吃|难喝|不好)"
)


def _worse_than_before(text: str, praise_words: Sequence[str]) -> list[tuple[int, str]]:
    """没有以前好, 没上次的好吃, 没想象中好: a comparison that says "less good" (not 没有想象中那么贵)."""
    found = [(m.start(), m.group()) for m in _WORSE_THAN_BEFORE.finditer(text) if not _negated(text[: m.start()])]
    praise = set(praise_words)
    for match in _COMPARED.finditer(text):
        end = match.start("praise")
        word = next((w for w in sorted(praise, key=len, reverse=True)
                     if text.startswith(w, end) and _CHINESE.match(w)), None)
        if word is None:
            # the praise word may sit further on: scan the rest of the clause
            clause = re.split(r"[，。,.!！?？；;]", text[match.start():])[0]
            words = [w for w in praise if _CHINESE.match(w) and w in clause[2:]]
            if not words:
                continue
            word = words[0]
        if not _negated(text[: match.start()]):
            found.append((match.start(), text[match.start(): text.find(word, match.start()) + len(word)]))
    return found


def _negated_praise(text: str, praise_words: Sequence[str]) -> list[tuple[int, str]]:
    """Praise under a negation that is not itself negated: 不是很满意, not very happy (not 没有不满意)."""
    found = []
    for word in praise_words:
        pattern = _keyword_pattern(word)
        if pattern is None or _literal(word) not in text:
            continue
        for match in pattern.finditer(text):
            start = _negation_start(text[: match.start()])
            if start is None or _negated(text[:start]):
                continue
            phrase = text[start: match.end()].strip()
            if any(idiom in text[max(0, start - 2): match.end() + 2] for idiom in PRAISE_IDIOMS):
                continue
            found.append((start, phrase))
            break
    return found


#: Complaint constructions: the shape of the sentence says it, whatever the words in it.
#: 太X了 / X得要命 / X死了 / X得离谱 with an X that is no praise (太远了, 咸死了, also a typo: 太县了);
#: not what was shown or said (和图片完全两个东西, 标签价和收银价不一样 — not 跟别家不一样, which is praise);
#: a span of time and still nothing (三个月都没发过来, 两周了还没消息); an item left out (少送了一份);
#: found out only afterwards (追着问才知道); English "never arrived", "wouldn't flush".
_TOO = re.compile(
    r"(?:太|太过|过于)(?P<word>[\u3400-\u9fff]{1,2}?)(?:了|啦|吧|(?=[!！，,。.?？;；~～\s])|$)"
    r"|(?P<word2>[\u3400-\u9fff]{1,2})(?:得要命|得要死|得不行|得离谱|到离谱|得过分|死了|死人|到爆|到家了|(?:得很|得厉害)(?=[!！，,。.?？;；~～\s]|$))"
)
#: Words a 太/死了 construction says without complaining (太感谢了, 笑死了, 爱死了).
TOO_NOT_COMPLAINTS: tuple[str, ...] = ("感谢", "谢谢", "笑", "爱", "美", "好", "可以", "有才", "划算", "值")
_STILL_NOTHING = re.compile(
    r"(?:(?:[0-9]+|[一二两三四五六七八九十几半]+)\s*个?\s*多?\s*(?:天|周|星期|礼拜|月|小时|钟头|年)|半天|好久|好几天|这么久)"
    r"\s*(?:了\s*[，,]?\s*(?:都|还|也|仍然|依然|一直)?|[，,]?\s*(?:都|还|也|仍然|依然|一直))\s*(?:没|不见|未)"
)
_MISMATCH = re.compile(
    r"(?:和|跟|与)(?!别|其他|其它|外面|一般|普通)[^，。,.!！?？；;]{1,10}?(?:完全|根本|压根)?"
    r"(?:不一样|不符|对不上|不一致|两回事|两个东西|差太多|差很多|差远了)"
)
#: Never again (再也不会来了, 不想再去); needs improving (有待提高, 还需改进); not answering (电话总是不接);
#: worse than somewhere else (比外面贵一倍).
_NEVER_AGAIN = re.compile(r"(?:再也不(?:会|想|要)?(?:来|去)|不(?:会|想|要)再(?:来|去|光顾))(?!别|其他|其它|外面)")
_NEEDS_IMPROVING = re.compile(r"(?:有待|需要|还需|亟待|还要|仍需)(?:提高|改进|改善|加强|提升)")
_NOT_ANSWERING = re.compile(r"(?:总是|一直|也|都|从来|根本)(?:不|没)(?:接|回)(?![受触送家来去])")
_WORSE_THAN_OTHERS = re.compile(r"比[^，。,.!！?？；;]{1,6}?(?:贵|差|慢|少|难吃|难喝|咸|脏|吵|挤|不好)")
_LEFT_OUT = re.compile(r"(?:少|漏)(?:了|送|给|发|放|装)了?[一两三几]?[份杯个碗瓶件样道盒包]")
_FOUND_OUT_LATE = re.compile(r"才(?:知道|说|告诉|通知|发现|被告知)")
#: Nobody told: 没人提醒, 根本没讲清楚, 也没跟我们说一声 (not 没说的, "nothing to say against it").
_NOT_TOLD = re.compile(
    r"(?:没人|没有人|谁也没|也没|都没|从来没|根本没|并没|从没)有?(?:提前|主动|及时)?(?:跟|给|和|向)?(?:我们|我)?"
    r"(?:说|讲|告诉|通知|提醒|解释|同步|联系|回复|回电|答复)(?!的|什么|得)(?:清楚|明白|一声)?"
)
_EN_NOT_TOLD = re.compile(
    r"(?<![a-z])(?:nobody|no\s+one|never|didn't|did\s+not|wasn't|weren't)\s+(?:even\s+)?"
    r"(?:told|mentioned|explained|informed|warned|called|replied|answered|said)(?![a-z])"
)
_EN_NEVER = re.compile(
    r"(?<![a-z])never\s+(?:arrived|showed\s+up|turned\s+up|came|got\s+back|heard\s+back|received|answered|"
    r"responded|called|replied|fixed|returned|delivered|told|explained|showed)(?![a-z])"
)
#: "Too" + a word that is no praise is a complaint unless the whole text reads positive ("too much food, loved it").
EN_TOO_AT_MOST = 0.3
_EN_TOO = re.compile(r"(?<![a-z])(?:too|overly)\s+(?P<word>[a-z]+)(?![a-z])")
_EN_HAD_TO = re.compile(r"(?<![a-z])had\s+to\s+(?:chase|ask|remind|wait|call|go\s+back|find|beg|fetch)(?![a-z])")
_EN_DOES_NOT_WORK = re.compile(
    r"(?<![a-z])(?:didn't|doesn't|don't|wouldn't|won't|couldn't|can't|isn't|wasn't|aren't|weren't|"
    r"did\s+not|does\s+not|would\s+not|will\s+not|could\s+not|cannot)\s+(?:even\s+)?"
    r"(?:work|working|flush|open|close|lock|connect|charge|turn\s+on|start|load|drain|heat\s+up)(?![a-z])"
)


def _not_praise(word: str, praise_words: Sequence[str]) -> bool:
    """Whether ``word`` (the X of 太X了) is no praise: not a praise word and not weighed as one by the lexicon."""
    if any(word.startswith(p) or p.startswith(word) for p in (*praise_words, *TOO_NOT_COMPLAINTS) if _CHINESE.match(p)):
        return False
    return sentiment.weight(word) < PRAISE_WEIGHT


#: A lexicon weight from which a word reads as praise (实惠 3.5, 方便 1.6; 认真 0.7, 藏 0.9 — a typo of 脏 — and 粗糙 0.3 do not).
PRAISE_WEIGHT = 1.0


def _constructions(text: str, praise_words: Sequence[str]) -> list[tuple[int, str]]:
    """Complaints said by the shape of the sentence (see ``_TOO`` and its neighbours), as (offset, phrase)."""
    found = []
    if _CHINESE.search(text):
        for match in _TOO.finditer(text):
            word = match["word"] or match["word2"]
            nearest = word if match["word"] else word[-1]  # 快得很 in 上菜快得很
            no_praise = _not_praise(word, praise_words) and _not_praise(nearest, praise_words)
            if no_praise and not _negated(text[: match.start()]):
                found.append((match.start(), match.group()))
        for pattern in (_STILL_NOTHING, _MISMATCH, _LEFT_OUT, _FOUND_OUT_LATE, _NOT_TOLD, _NEVER_AGAIN,
                        _NEEDS_IMPROVING, _NOT_ANSWERING):
            found += [(m.start(), m.group()) for m in pattern.finditer(text)]
        found += [(m.start(), m.group()) for m in _WORSE_THAN_OTHERS.finditer(text) if not _negated(text[: m.start()])]
    for pattern in (_EN_NEVER, _EN_DOES_NOT_WORK, _EN_NOT_TOLD, _EN_HAD_TO):
        found += [(m.start(), m.group()) for m in pattern.finditer(text)]
    too = list(_EN_TOO.finditer(text))
    if too and sentiment.english_compound(text) < EN_TOO_AT_MOST:
        found += [
            (match.start(), match.group()) for match in too
            if match["word"] not in praise_words and sentiment.english_weight(match["word"]) <= 0
            and not _negated(text[: match.start()])
        ]
    return found


#: The model's probability of "positive" below which a Chinese text is a complaint on its own.
MODEL_SURE_NEGATIVE = 0.1
#: VADER's compound score at or below which an English text is negative (its authors' threshold).
ENGLISH_NEGATIVE = -0.05
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


_PRAISE_DEGREES = ("很", "挺", "非常", "特别", "超", "真", "蛮")
_BUT = re.compile(r"但是|但|可惜|就是|不过|只是|可是|却|(?<![a-z])(?:but|though|however)(?![a-z])")


def _praised_without_but(text: str, praise_words: Sequence[str]) -> bool:
    """Whether a Chinese text praises (a praise word of two characters or more, not negated: 很舒服,
    问题也解决了, 解释得很清楚) and no "but" follows the praise: then the lexicon and the model, which
    read 醒, 问题, 解释 as negative, do not make it a complaint."""
    last_but = max((m.start() for m in _BUT.finditer(text)), default=-1)
    for word in praise_words:
        if not _CHINESE.match(word):
            continue
        if len(word) < 2:
            word = next((degree + word for degree in _PRAISE_DEGREES if degree + word in text), "")
            if not word:
                continue
        at = text.find(word)
        while at != -1:
            if at > last_but and not _negated(text[:at]):
                return True
            at = text.find(word, at + 1)
    return False


_EN_NO_TROUBLE = re.compile(r"(?<![a-z])no\s+(?P<word>[a-z]+)")


def _no_trouble(match: re.Match[str]) -> str:
    """"No wait", "no issues", "no complaints": VADER weighs "no" −1.2, so such praise read as negative.
    Before a negative word (complaints, problems) "no" says there was none of the trouble: both go; before a
    word VADER does not weigh (wait, issues) only the "no" goes; before a positive word (no help) it stays."""
    weight = sentiment.english_weight(match["word"])
    return "" if weight < 0 else match["word"] if weight == 0 else match.group()


def _negative_by_lexicon(text: str, praise_words: Sequence[str] = ()) -> list[tuple[int, str]]:
    """Negative sentiment no keyword named (see ``app.core.sentiment``), as (offset, phrase).

    Chinese: the weights of the text's lexicon words add up below zero — a word under a negation
    counts the other way (不满意 is negative, 没有让人失望 is not) — and the model gives it less than
    even odds of being positive; or the model is sure (positive below ``MODEL_SURE_NEGATIVE``) and
    the text has no negation (the model knows none: 没让我失望, 服务不是很差).
    The phrase is the word (with its negation) that weighs most towards the complaint, else the
    first clause. Other text: VADER's compound score at or below ``ENGLISH_NEGATIVE``; the phrase
    is its most negative word. Applied to texts in which nothing else found a complaint."""
    if not _CHINESE.search(text):
        if not _EN_WORD.search(text) or (
            sentiment.english_compound(_EN_NO_TROUBLE.sub(_no_trouble, text)) > ENGLISH_NEGATIVE
        ):
            return []
        weighted = [(sentiment.english_weight(m.group()), m.start(), m.group()) for m in _EN_WORD.finditer(text)]
        weight, offset, word = min(weighted)
        return [(offset, word if weight < 0 else text[:40].strip())]
    total, worst = 0.0, None
    for weighted_word in sentiment.lexicon_words(text):
        start = _negation_start(text[: weighted_word.offset])
        if start is not None and _negated(text[:start]):
            start = None  # a negated negation: 没有什么不满意
        if start is None and _none_at_all(text, weighted_word.offset, weighted_word.offset + len(weighted_word.word)):
            start = weighted_word.offset  # 一只蚊子都没有
        weight = -weighted_word.weight if start is not None else weighted_word.weight
        total += weight
        if weight < 0 and (worst is None or weight < worst[0]):
            offset = weighted_word.offset if start is None else start
            worst = (weight, offset, text[offset: weighted_word.offset + len(weighted_word.word)])
    if _praised_without_but(text, praise_words):
        return []
    positive = sentiment.positive_probability(text)
    by_both = total < 0 and worst is not None and positive < 0.5
    if not by_both and (positive >= MODEL_SURE_NEGATIVE or any(n in text for n in _NEGATIONS)):
        return []
    if worst is None:
        return [(0, _CLAUSE.split(text, maxsplit=1)[0][:20])]
    return [(worst[1], worst[2])]


def find_complaints(
    texts: Sequence[tuple[str, str]], keywords: Iterable[str], praise_words: Sequence[str] = (),
    long_waits: bool = False, lexicon: bool = False,
) -> list[KeywordHit]:
    """Every written complaint: complaint keywords as ``find_keywords`` finds them, plus (when asked) praise
    under a negation (the hit's keyword is the phrase, e.g. "不是很满意"), a wait said with its length of
    at least ``LONG_WAIT_MINUTES`` ("排了一个小时") and, in a Chinese text where none of these found
    anything, negative sentiment by the shipped lexicons and model (``_negative_by_lexicon``: 真是无语了).
    In text order, one hit per phrase."""
    hits = {hit.keyword: hit for hit in find_keywords(texts, keywords)}
    for index, (question, text) in enumerate(texts):
        normalised = normalise(text)
        extra = _negated_praise(normalised, praise_words) + _worse_than_before(normalised, praise_words)
        extra += _constructions(normalised, praise_words)
        extra += _long_waits(normalised) if long_waits else []
        if lexicon and not extra and not any(hit.text_index == index for hit in hits.values()):
            extra = _negative_by_lexicon(normalised, praise_words)
        for offset, phrase in extra:
            hits.setdefault(phrase, KeywordHit(phrase, question, index, offset))
        conceded = _conceded(normalised)
        if conceded:
            hits = {
                phrase: hit for phrase, hit in hits.items()
                if hit.text_index != index or not any(start <= hit.offset < end for start, end in conceded)
            }
    return sorted(hits.values(), key=lambda hit: (hit.text_index, hit.offset))


def clauses_with(texts: Sequence[tuple[str, str]], hits: Sequence[KeywordHit]) -> list[tuple[str, str]]:
    """The clauses of ``texts`` that hold one of ``hits`` (as (question key, clause) pairs, in order)."""
    found = []
    for index, (question, text) in enumerate(texts):
        normalised = normalise(text)
        offsets = [hit.offset for hit in hits if hit.text_index == index]
        start = 0
        for boundary in [*_CLAUSE.finditer(normalised), None]:
            end = boundary.start() if boundary is not None else len(normalised)
            if end > start and any(start <= offset < end for offset in offsets):
                found.append((question, normalised[start:end]))
            if boundary is not None:
                start = max(boundary.end(), end)
    return found
