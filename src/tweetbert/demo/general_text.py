"""General-domain Japanese text (encyclopedia and news register) for pre-training the tiny demo base model.

The demo needs a "general" base BERT whose register differs from tweets, so that domain adaptation on the
tweet corpus has something to adapt: these sentences are formal (である / した), free of emoji, slang and
mentions, and built from the same nouns as the tweets so the vocabularies still overlap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tweetbert.demo import task_vocabulary as T
from tweetbert.demo import vocabulary as V

_TEMPLATES = (
    "{name}は、{pref}{area}に位置する{kind}である。",
    "{name}は{year}年に{person}によって創設された。",
    "{year}年{month}月{day}日、{name}は{field}の新たな研究拠点を開設すると発表した。",
    "{river}は{mountain}に源を発し、{pref}を流れて海に注ぐ全長{small}キロメートルの河川である。",
    "{mountain}は標高{height}メートルの山で、{pref}の最高峰として知られる。",
    "{area}の人口は約{small}万人で、主な産業は{industry}である。",
    "{person}（{year}年 - ）は、日本の{field}者である。",
    "{person}は{year}年に{field}の研究で博士号を取得した。",
    "{name}の建物は{year}年に{material}で建て替えられた。",
    "{event}は{year}年から毎年{month}月に{area}で開催されている。",
    "気象庁によると、{month}月{day}日の{area}の最高気温は{temp}度に達した。",
    "{name}の{surname}館長は記者会見で、{field}分野の展示を拡充する方針を示した。",
    "政府は{year}年{month}月、{industry}の振興に向けた新たな支援策を取りまとめた。",
    "{area}では{era}から{food}が名物として知られている。",
    "{year}年度の来館者数は前年度比{pct}パーセント増の{small}万人であった。",
    "{area}駅は{year}年に開業し、現在の一日平均乗降客数は約{small}万人である。",
    "{name}には{field}に関する資料が約{large}点収蔵されている。",
    "{pref}議会は{month}月{day}日、{industry}に関する条例案を可決した。",
    "{person}は{area}出身の{occupation}で、{year}年に{award}を受賞した。",
    "{river}流域では{year}年{month}月に大規模な治水工事が行われた。",
    "{area}は{era}に宿場町として栄え、{year}年に市制を施行した。",
    "{name}の周辺には{venue}や{venue2}が立ち並んでいる。",
    "{name}の調査団は{year}年、{mountain}の山頂付近で新種の植物を発見したと発表した。",
    "{name}は{year}年に{name2}と統合され、現在の名称となった。",
    "{field}の分野では、{person}の業績が高く評価されている。",
    "{year}年の国勢調査によると、{pref}の人口は前回調査から{pct}パーセント減少した。",
)

def _slots(rng: np.random.Generator) -> dict[str, str]:
    """One value per slot name; only the names a template uses are formatted in."""
    def pick(pool: tuple[str, ...]) -> str:
        return pool[int(rng.integers(len(pool)))]

    area, pref = V.AREAS[int(rng.integers(len(V.AREAS)))]
    kind = pick(T.ORG_KINDS)
    return {
        "area": area, "pref": pref, "kind": kind,
        "name": f"{area}{pick(T.ORG_PREFIXES)}{kind}",
        "name2": f"{pick(V.AREAS)[0]}{pick(T.ORG_PREFIXES)}{kind}",
        "person": pick(V.SURNAMES) + pick(V.GIVEN_NAMES), "surname": pick(V.SURNAMES),
        "year": str(int(rng.integers(1868, 2024))), "month": str(int(rng.integers(1, 13))),
        "day": str(int(rng.integers(1, 29))), "field": pick(T.FIELDS), "event": pick(T.EVENTS),
        "river": pick(T.RIVERS), "mountain": pick(T.MOUNTAINS), "material": pick(T.MATERIALS),
        "industry": pick(T.INDUSTRIES), "food": pick(V.FOODS), "occupation": pick(T.OCCUPATIONS),
        "award": pick(T.AWARDS), "era": pick(T.ERAS), "venue": pick(V.VENUES), "venue2": pick(V.VENUES),
        "height": str(int(rng.integers(300, 3200))), "temp": str(int(rng.integers(25, 41))),
        "small": str(int(rng.integers(2, 300))), "large": f"{int(rng.integers(1, 900)) * 100:,}",
        "pct": f"{rng.uniform(0.1, 15.0):.1f}",
    }


def generate_general_text(n_lines: int, seed: int) -> list[str]:
    """``n_lines`` formal sentences, deterministic for a seed."""
    rng = np.random.default_rng([seed, 30])
    templates = rng.integers(len(_TEMPLATES), size=n_lines).tolist()
    return [_TEMPLATES[t].format(**_slots(rng)) for t in templates]


def write_general_text(path: Path, seed: int = 0, n_lines: int = 20_000) -> Path:
    """Writes one sentence per line (UTF-8, ``\\n``) and returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(generate_general_text(n_lines, seed)) + "\n", encoding="utf-8")
    return path
