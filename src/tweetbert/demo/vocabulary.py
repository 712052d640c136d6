"""Invented word lists the demo generators compose tweets (and the general-domain text) from.

Pools are large and varied on purpose: the tweet generator relies on every word 5-gram of a natural tweet
containing at least two independent draws, so unrelated tweets almost never share shingles by chance.
Pieces are written to tokenise into at most a few MeCab words for the same reason.
"""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of a block of text."""
    return tuple(text.split())


def lines(text: str) -> tuple[str, ...]:
    """The non-blank lines of a block of text, stripped (for pieces that contain spaces)."""
    return tuple(line.strip() for line in text.strip().splitlines() if line.strip())


TIMES = words("""
今日 昨日 明日 今朝 今夜 今晩 さっき 朝 夜 昼 夕方 深夜 週末 来週 先週 今週 今月 来月 先月 今年 去年
月曜 火曜 水曜 木曜 金曜 土曜 日曜 連休 年末 年始 夏休み 冬休み 春休み 誕生日 放課後 仕事終わり 帰り道
昼休み 休日 平日 明後日 一昨日 毎朝 毎晩 真夜中 早朝 三連休 大晦日 元日 花見の日
""")

PEOPLE = words("""
友達 親友 先輩 後輩 母 父 兄 姉 弟 妹 彼氏 彼女 旦那 嫁 息子 娘 上司 同僚 部長 先生 店長 推し 祖母
祖父 いとこ 甥っ子 姪っ子 クラスメイト 幼なじみ 同期 ルームメイト お客さん 子供たち 家族 みんな
姉ちゃん 兄ちゃん じいちゃん ばあちゃん 相方 後輩ちゃん 大家さん 担任 店員さん
""")

PREFECTURES = words("""
北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県
新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県
奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県
熊本県 大分県 宮崎県 鹿児島県 沖縄県
""")

# (area, prefecture) pairs, so that check-ins name a consistent place.
AREAS = tuple(tuple(pair.split(":")) for pair in words("""
渋谷:東京都 新宿:東京都 池袋:東京都 原宿:東京都 表参道:東京都 銀座:東京都 上野:東京都 秋葉原:東京都
浅草:東京都 品川:東京都 吉祥寺:東京都 下北沢:東京都 中野:東京都 高円寺:東京都 恵比寿:東京都
六本木:東京都 町田:東京都 八王子:東京都 立川:東京都 横浜:神奈川県 川崎:神奈川県 鎌倉:神奈川県
藤沢:神奈川県 大宮:埼玉県 浦和:埼玉県 川越:埼玉県 千葉:千葉県 船橋:千葉県 柏:千葉県 梅田:大阪府
難波:大阪府 心斎橋:大阪府 天王寺:大阪府 京都:京都府 河原町:京都府 嵐山:京都府 三宮:兵庫県
元町:兵庫県 姫路:兵庫県 名古屋:愛知県 栄:愛知県 金山:愛知県 豊橋:愛知県 札幌:北海道 すすきの:北海道
小樽:北海道 函館:北海道 旭川:北海道 仙台:宮城県 盛岡:岩手県 秋田:秋田県 山形:山形県 郡山:福島県
宇都宮:栃木県 高崎:群馬県 水戸:茨城県 つくば:茨城県 新潟:新潟県 金沢:石川県 富山:富山県
福井:福井県 長野:長野県 松本:長野県 甲府:山梨県 静岡:静岡県 浜松:静岡県 岐阜:岐阜県 津:三重県
伊勢:三重県 大津:滋賀県 奈良:奈良県 和歌山:和歌山県 岡山:岡山県 倉敷:岡山県 広島:広島県
尾道:広島県 松江:島根県 鳥取:鳥取県 下関:山口県 高松:香川県 松山:愛媛県 徳島:徳島県 高知:高知県
博多:福岡県 天神:福岡県 小倉:福岡県 佐賀:佐賀県 長崎:長崎県 熊本:熊本県 別府:大分県 宮崎:宮崎県
鹿児島:鹿児島県 那覇:沖縄県 石垣:沖縄県
"""))

VENUES = words("""
カフェ 駅 公園 図書館 映画館 本屋 美容院 ジム 居酒屋 ラーメン屋 コンビニ スーパー 水族館 動物園
美術館 博物館 温泉 銭湯 海 商店街 ショッピングモール 遊園地 カラオケ ゲーセン 古着屋 パン屋 焼肉屋
回転寿司 ファミレス 定食屋 空港 神社 お寺 体育館 プール 大学 病院 歯医者 実家 ライブハウス 球場
スタジアム 花火大会 河川敷 展望台 植物園 喫茶店 雑貨屋 ホームセンター
""")

FOODS = words("""
ラーメン 寿司 焼肉 カレー うどん そば パスタ ピザ ハンバーグ オムライス 唐揚げ 餃子 天ぷら とんかつ
牛丼 親子丼 かつ丼 お好み焼き たこ焼き もんじゃ 焼き鳥 おでん 鍋 しゃぶしゃぶ すき焼き 刺身 海鮮丼
チャーハン 麻婆豆腐 回鍋肉 グラタン ドリア サンドイッチ ハンバーガー ポテト ホットドッグ タコス
パンケーキ ワッフル クレープ ケーキ チーズケーキ モンブラン プリン ティラミス パフェ アイス
ジェラート かき氷 ドーナツ マカロン シュークリーム どら焼き 大福 団子 おにぎり 味噌汁 卵焼き
納豆ご飯 冷やし中華 つけ麺 ビビンバ トッポギ フォー ガパオライス グリーンカレー タピオカ
抹茶ラテ カフェラテ 紅茶 ほうじ茶 ビール ハイボール レモンサワー 日本酒 ワイン 焼きそば 肉まん
ちゃんぽん 石焼き芋 たい焼き バウムクーヘン メロンパン カツサンド ナポリタン 豚汁
""")

THINGS = words("""
ゲーム アニメ 漫画 ドラマ 映画 ライブ 配信 ラジオ 新曲 アルバム 写真 カメラ スマホ パソコン
タブレット イヤホン ヘッドホン キーボード マウス モニター 腕時計 スニーカー パーカー ジャケット
ワンピース 帽子 リュック 香水 ネイル コスメ 化粧水 シャンプー 観葉植物 自転車 バイク 電子レンジ
冷蔵庫 洗濯機 掃除機 エアコン こたつ 枕 ぬいぐるみ フィギュア グッズ アクスタ 缶バッジ チケット
ガチャ イベント コラボカフェ 聖地巡礼 筋トレ ランニング ヨガ 散歩 読書 料理 英語
プログラミング イラスト 作曲 ギター ピアノ ダンス 釣り キャンプ 登山 サウナ 一人旅
ボードゲーム パズル 日記 手帳 マグカップ 水筒 サボテン 金魚 ハムスター インコ
""")

DAILY = words("""
天気 電車 仕事 宿題 部屋 洗濯物 財布 傘 髪 猫 犬 朝ごはん 昼ごはん 晩ごはん 残業 会議 資料 締め切り
試験 レポート バイト 給料 家賃 電気代 体重 肩こり 頭痛 花粉 寝癖 目覚まし 通勤 満員電車 雨 雪 風
空 夕焼け 星空 月 桜 紅葉 セミ 洗い物 ゴミ出し 引っ越し 大掃除 健康診断 予約 荷物 宅配便 メール
通知 充電 パスワード 年賀状 お弁当 冷凍食品 自炊 請求書 有給 時間割 課題 面接 家計簿 ベランダ
""")

# i-adjective stems, each used in four forms (眠い 眠かった 眠すぎる 眠くない), plus fixed predicates.
_ADJECTIVE_STEMS = words("""
眠 寒 暑 熱 辛 甘 苦 しょっぱ 可愛 美し 眩し 暗 明る 広 狭 長 短 遠 近 速 遅 高 安 新し 古 固
温か 冷た 優し 厳し 珍し 恥ずかし 羨まし 悔し 忙し 面倒くさ 美味し まず 楽し 面白 つまらな 寂し 嬉し
悲し 懐かし 怖 うるさ 重 軽 痛 だる 尊 ありがた 難し 易し 騒がし 清々し
""")
ADJECTIVES = tuple(stem + ending for stem in _ADJECTIVE_STEMS for ending in ("い", "かった", "すぎる", "くない")) + words("""
最高 最高だった 優勝 天才 神 平和 幸せ 大変だった 助かった 良かった 惜しかった 沁みる 癒やされる 泣ける
笑える 落ち着く 気になる 混んでた 空いてた 綺麗だった 静かだった 新鮮だった 不思議 絶妙 微妙だった
簡単だった 賑やかだった 大事件 無理 限界 満足 地獄 天国 奇跡
""")

# Verbs taking an object, four forms each (past, want, ongoing, "ended up").
VERBS = words("""
買った 買いたい 買ってる 買っちゃった 見た 見たい 見てる 見ちゃった 始めた 始めたい 始めてる 始めちゃった
探した 探したい 探してる 探しちゃった 忘れた 忘れたい 忘れてる 忘れちゃった 無くした 無くしてる
予約した 予約したい 予約してる 注文した 注文したい 作った 作りたい 作ってる 作っちゃった 洗った 洗いたい
片付けた 片付けたい 片付けてる 読んだ 読みたい 読んでる 読んじゃった 聴いた 聴きたい 聴いてる
練習した 練習したい 練習してる 応援した 応援したい 応援してる 待った 待ちたい 待ってる 諦めた 諦めたい
使った 使いたい 使ってる 使っちゃった 借りた 借りたい 借りてる 返した 返したい 選んだ 選びたい 選んでる
撮った 撮りたい 撮ってる 撮っちゃった 調べた 調べたい 調べてる 録画した 録画したい 更新した 更新したい
交換した 交換したい 直した 直したい 見つけた 見つけたい 眺めた 眺めてる 布教したい 語りたい 極めたい
卒業した 再開した 再開したい 頼んだ 頼みたい 描いた 描きたい 描いてる 育てた 育てたい 育ててる
""")

EAT = words("""
食べた 食べたい 食べてる 食べちゃった 飲んだ 飲みたい 飲んでる 頼んだ 作った 焼いた 温めた 完食した
我慢した 分けた 選んだ 味わった 詰めた 冷やした 追加した 注文した 買った 持ち帰った 奢った 食べすぎた
飲みすぎた 作りすぎた 焦がした 発見した
""")

GO = words("""
行った 行きたい 来た 着いた 向かってる 寄った 戻った 帰った 通ってる 出かけた 歩いた 逃げた 遠征した
引っ越した 移動中 集合 到着 寄り道した 迷い込んだ 帰省した
""")

INTERJECTIONS = words("""
やばい まじで えー うわー ふぅ よし あー なんか 正直 とりあえず ねえ うーん さて おお やった ついに
あれ 結局 もう いやー わー ほんと へぇ おっ はぁ よっしゃ
""")

ADVERBS = words("""
めっちゃ ちょっと ずっと 久しぶりに やっと また 初めて すごく かなり 普通に 意外と 絶対 たぶん
やっぱり 結構 本当に 全然 もっと 一生 ひたすら なぜか 案外 わりと とにかく
""")

PUNCTUATION = ("", "！", "。", "…", "w", "www", "笑", "(笑)", "〜", "！！", "？", "ね", "な", "よ", "泣",
               "♪", "☆", "!!", "?!", "ｗ")

ENGLISH = lines("""
lol
omg
OK
nice
cool
so cute
happy
thanks
thank you
good morning
good night
love it
so good
yummy
finally
weekend
chill
no way
wow
amazing
perfect
see you
hello
coffee time
lunch time
tonight
my favorite
lucky
sorry
congrats
vlog
tbh
btw
gg
good luck
happy birthday
new arrival
on my way
just saying
""")

ROMAJI = words("""
ohayo oyasumi arigato otsukare kawaii sugoi yabai ganbare oishii tanoshii ureshii sayonara daijoubu
ikuzo yatta itadakimasu gochisousama natsukashii
""")

EMOJI = words("""
😂 😊 😭 🥺 😍 🥰 😇 🤔 😅 😆 😋 😴 😱 😎 🙏 👍 👏 💪 🙌 ✨ 🎉 🎂 🍰 🍜 🍣 🍺 ☕ 🌸 🌈 🌙 ⭐ 🔥 💦 💕
❤️ 💙 💛 💜 🖤 🐱 🐶 🐰 🐻 🎮 🎧 🎵 📷 📚 🚃 🏃 🍀 🍁 ⛄ 🎄 🎃 💤 💯 🤣 😤 😳 🥲 🫠 🤗 🍙 🍓
""")

# Kaomoji that MeCab splits into at most three words (longer ones would form shared shingles on their own).
KAOMOJI = words("""
(^^) (^_^) (;_;) (>_<) (*^^*) (^_^;) orz m(__)m (^-^) (^^;) (ToT) (´∀`) (^^)v (*_*) (-_-) (-_-;) (^^ゞ
(^.^) (^^)/ (*'▽') (;'∀') (^^♪ (^^)b (*^-^*) (>_<;) (^_-) (^▽^) (^_^)v (*^^)v (+_+) (=_=) (#^^#) (^^;;
(ﾉ∀`) (^_^)/ (-.-) (*^^*)ゞ
""")

HASHTAGS = words("""
今日のごはん おうちカフェ 拡散希望 猫好き 犬好き 朝活 駆け出しエンジニア
写真好き 絵描き 読書記録 筋トレ ダイエット 一枚 空 夕焼け 桜
紅葉 カフェ巡り 食べ歩き 旅行 キャンプ 登山 サウナ 推し活 ライブ参戦 新曲 アニメ ゲーム 自炊 お弁当
お菓子作り パン作り ハンドメイド 在宅勤務 テレワーク 受験生 勉強垢 新大学生 社会人 育児 子育て
家庭菜園 ガーデニング 盆栽 アクアリウム 鉄道 撮り鉄 車好き バイク好き ランニング 釣り ゴルフ 野球
サッカー 将棋 映画鑑賞 読書好き 漫画 イラスト 一次創作 作業用BGM 今日の空 雨の日 月曜日 花金
休日 夜更かし 深夜テンション 晩酌 ひとり飯 ご当地グルメ 喫茶店巡り 古着 スニーカー 銭湯 温泉
""")

# Syllables for invented screen names, band names and people.
ROMAJI_SYLLABLES = words("""
a ka sa ta na ha ma ya ra wa ki shi chi ni hi mi ri ku su tsu nu fu mu yu ru ke se te ne he me re
ko so to no ho mo yo ro ga gi gu ge go za ji zu ze zo da de do ba bi bu be bo pa pi pu pe po n
""")

SURNAMES = words("""
佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水
山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本
""")

GIVEN_NAMES = words("""
翔太 大輝 蓮 悠斗 陽向 湊 健太 拓海 大和 亮 美咲 陽菜 結衣 さくら 葵 凛 花子 愛 優花 七海 真央 彩
千尋 遥 茜 和也 直樹 誠 聡 恵 由美 智子 裕子 健一 浩二 隆 修 明美 美穂 瑞希
""")

# Short stock phrases many users post verbatim; each is one exact-duplicate cluster ("www" and "ｗｗｗ"
# become one after NFKC, which the final merge handles).
STOCK_PHRASES = lines("""
おはよう
おはようございます
おやすみ
おやすみなさい
ねむい
お腹すいた
疲れた
ただいま
いってきます
帰りたい
寒い
暑い
草
www
ｗｗｗ
それな
わかる
ありがとう
ありがとうございます！
おめでとう！
お疲れ様です
了解です
なるほど
マジか
かわいい
尊い
無理
しんどい
今日も一日がんばろう
ひま
起きた
二度寝した
月曜日つらい
花金だ！
あけましておめでとうございます
メリークリスマス
誕生日おめでとう🎉
最高
お昼なに食べよう
天才か
雨やばい
眠れない
明日休みたい
""")


# Template bots' slot values.
HOROSCOPE_SIGNS = words("おひつじ座 おうし座 ふたご座 かに座 しし座 おとめ座 てんびん座 さそり座 いて座 やぎ座 みずがめ座 うお座")
LUCKY_ITEMS = words("ハンカチ 手帳 腕時計 観葉植物 スニーカー 帽子 マグカップ 手鏡 イヤホン 折りたたみ傘 ボールペン 香水 "
                     "キーホルダー チョコレート 文庫本 ストール 水筒 メガネ 栞 入浴剤")
BRANDS = words("喫茶ひだまり 珈琲館もみじ ベーカリー小麦堂 麺屋つばさ カフェ・ミモザ 丸福うどん 書店ほんのき "
                "スポーツジム・ライズ 回転寿司うみかぜ 定食いろは 焼肉だるま ドーナツ工房わっか")
WEATHER = words("晴れ 曇り 雨 雪 晴れ時々曇り 曇り時々雨 雨のち晴れ 曇りのち雪 晴れのち雨 雷雨 霧 みぞれ")
GACHA_TITLES = words("水着の 聖夜の 花嫁の 制服の 覚醒した 漆黒の 黄金の 星詠みの 月下の 炎の")
SONG_HEADS = words("夜明けの 真夏の 最後の 君と見た 透明な 青い 遠くの 午前零時の 雨上がりの 秘密の 二度目の 真冬の")
SONG_TAILS = words("星座 約束 メロディ 街角 ラブレター 花火 改札 坂道 ダンス 惑星 帰り道 ポラリス")
DELAY_REASONS = words("人身事故 車両点検 信号トラブル 線路内立ち入り 強風 大雨 踏切の安全確認 急病人の救護")
DELAY_STATES = words("一部列車に遅れが出ています 運転を見合わせています 上下線で遅延しています ダイヤが乱れています")
ARTISTS = tuple(f"{a}{b}" for a in words("ミッドナイト ブルー サニー ネオン シルバー")
                for b in words("ズ ボーイズ ガールズ ライン ランプ"))
