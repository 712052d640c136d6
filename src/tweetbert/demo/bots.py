"""The demo's template bots: long fixed texts with short slots, each bot one user and one duplicate cluster.

Slots sit next to each other at one end of the text, so all posts of a bot share most of their shingles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tweetbert.demo import vocabulary as V

DRAW_HIGH = 2**62
"""Exclusive upper bound of the generators' integer draws (62 bits: ten base-62 digits of a short link)."""
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
AREA_NAMES = tuple(area for area, _ in V.AREAS)


@dataclass(frozen=True)
class Bot:
    """One bot template: a long fixed text, short adjacent slots, one user, one duplicate cluster."""

    text: str
    slots: dict[str, tuple[str, ...]]
    weight: float


_TEMPERATURES = tuple(f"最高{low + d}℃ 最低{low}℃" for low in range(-10, 29) for d in range(2, 13))
_RAIN = tuple(f"降水確率{p}%" for p in range(0, 101, 10))
_EPICENTERS = tuple(f"{pref[:-1] if pref[-1] in '県府都' else pref}{side}"
                    for pref in V.PREFECTURES for side in ("北部", "南部", "東部", "西部", "沖"))

BOTS = (
    Bot("今日もお気に入りの場所でひと休み。ここに来ると不思議と気持ちが落ち着くので、週に何回も通って"
         "しまいます。みなさんも素敵な一日を過ごしてくださいね！ I'm at {place} {url}",
         {"place": tuple(f"{brand} {area}店 in {area}, {pref}" for brand in V.BRANDS for area, pref in V.AREAS)},
         3.0),
    Bot("【{sign}】今日の運勢は{rank}位 ラッキーアイテムは{item}です。恋愛運も仕事運も、ちょっとした心がけで"
         "大きく変わるもの。焦らず自分のペースで過ごすのが開運のカギ！詳しい占い結果はプロフィールのリンクから"
         "どうぞ #今日の運勢 #星座占い",
         {"sign": V.HOROSCOPE_SIGNS, "rank": tuple(str(r) for r in range(1, 13)), "item": V.LUCKY_ITEMS},
         2.5),
    Bot("【{area}の天気】{weather} {temp} {rain}\n本日の天気予報をお知らせします。お出かけの際は朝晩の"
         "気温差に注意して、体調管理に気をつけてお過ごしください。洗濯物や傘の準備もお忘れなく #天気予報",
         {"area": AREA_NAMES, "weather": V.WEATHER, "temp": _TEMPERATURES, "rain": _RAIN},
         2.0),
    Bot("【ガチャ結果】{pulls}連で{rarity}「{chara}」をお迎えしました！毎日ログインでガチャチケットが"
         "もらえるキャンペーンを開催中。あなたも今すぐダウンロードして最強のパーティを作ろう！"
         " #星降る王国の物語 #ガチャ結果",
         {"pulls": ("1", "10", "11"), "rarity": ("SSR", "SR", "UR", "★5", "★4"),
          "chara": tuple(f"{title}{name}" for title in V.GACHA_TITLES for name in V.GIVEN_NAMES)},
         1.5),
    Bot("[地震情報] {hour}時{minute}分頃、{epicenter}で最大震度{shindo}を観測。この地震による津波の心配は"
         "ありません。今後の情報に注意してください。強い揺れを感じた地域では、落下物や家具の転倒に十分"
         "注意しましょう。 #地震 #防災",
         {"hour": tuple(str(h) for h in range(24)), "minute": tuple(str(m) for m in range(60)),
          "epicenter": _EPICENTERS, "shindo": ("1", "1", "2", "2", "3", "4", "5弱")},
         1.2),
    Bot("#nowplaying {head}{tail} / {artist}\n通勤中のBGMはいつもこのプレイリストから。イントロが流れた"
         "瞬間に気分が上がるんだよな〜 みんなの最近のお気に入りの曲も教えてください 🎧",
         {"head": V.SONG_HEADS, "tail": V.SONG_TAILS, "artist": V.ARTISTS},
         1.0),
    Bot("【運行情報】{area}線は{reason}の影響で、{state}。お急ぎのところ大変ご迷惑をおかけして"
         "おります。運転再開の見込みや振替輸送の実施状況については、各鉄道会社の公式サイトで最新の情報を"
         "ご確認ください。",
         {"area": AREA_NAMES, "reason": V.DELAY_REASONS, "state": V.DELAY_STATES},
         0.8),
    Bot("今日の歩数は{steps}歩、消費カロリーは{kcal}kcalでした！毎日コツコツ歩くことが健康への近道。明日も"
         "目標達成を目指して、楽しく続けていきましょう。記録はアプリで自動でつけています #歩数計 "
         "#ウォーキング記録",
         {"steps": tuple(str(s) for s in range(800, 25_001, 7)), "kcal": tuple(str(k) for k in range(40, 901))},
         0.6),
    Bot("ブログを更新しました！「{area}の{venue}で{food}を食べた話」今回も最後まで読んでいただけると"
         "嬉しいです。感想やご質問はコメント欄でお気軽にどうぞ。読者登録もよろしくお願いします！ #ブログ更新 {url}",
         {"area": AREA_NAMES, "venue": V.VENUES, "food": V.FOODS},
         0.4),
)


def tco(value: int) -> str:
    """A t.co-style short link from one 62-bit draw."""
    chars = []
    for _ in range(10):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "https://t.co/" + "".join(chars)


def fill_bot(bot: Bot, rng: np.random.Generator, n: int) -> list[str]:
    """``n`` posts of one template, each slot drawn independently (vectorised per slot)."""
    picks = {name: [pool[i] for i in rng.integers(0, len(pool), size=n).tolist()] for name, pool in bot.slots.items()}
    if "{url}" in bot.text:
        picks["url"] = [tco(x) for x in rng.integers(0, DRAW_HIGH, size=n).tolist()]
    names = list(picks)
    return [bot.text.format(**dict(zip(names, values))) for values in zip(*picks.values())]
