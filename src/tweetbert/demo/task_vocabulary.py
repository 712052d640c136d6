"""Invented lexicons of the demo's downstream tasks: emotions, sentiment, defamation, captions, commonsense,
reviews, acceptability sentences and brand reputation (the tweets' own word lists are in ``vocabulary``)."""

from __future__ import annotations

from tweetbert.demo.vocabulary import words

EMOTION_PHRASES = {
    "Joy": words("嬉しい 最高の気分 幸せすぎる 楽しくて仕方ない ルンルン 笑いが止まらない 大満足 うきうき"),
    "Sadness": words("悲しい 涙が止まらない 寂しくてたまらない 落ち込んでる 切ない 心が痛い 元気が出ない 泣きそう"),
    "Anticipation": words("楽しみすぎる 待ちきれない わくわくする 早く来てほしい ドキドキしながら待つ 期待しかない"),
    "Surprise": words("びっくりした まさかの展開 驚きすぎて声が出た 信じられない 目を疑った 予想外すぎる"),
    "Anger": words("腹が立つ 許せない イライラする ふざけるな ムカつく 頭にきた 怒りが収まらない"),
    "Fear": words("怖い 不安で眠れない ぞっとした 震えが止まらない 恐ろしい 心配でたまらない"),
    "Disgust": words("気持ち悪い うんざり 最悪の気分 吐き気がする 見るのも嫌だ げんなりした"),
    "Trust": words("信頼してる 頼りになる 安心して任せられる 心強い さすがの安定感 間違いない"),
}

SENTIMENT_WORDS = {
    "positive": words("最高 素晴らしい 大好き 感動した 美味しかった 楽しかった おすすめ 嬉しい 満足 神対応 癒やされた 大成功"),
    "negative": words("最悪 ひどい 嫌い がっかり まずかった つまらない 残念 不満 後悔 二度と行かない 疲れた 失敗"),
    "neutral": words("行った 見た 買った 読んだ 届いた 始まった 終わった 予定です 確認中 移動中 発表された 更新された"),
}

INSULTS = words("""
バカ 無能 クズ ゴミ 最低な人間 嘘つき 詐欺師 役立たず ポンコツ 恥知らず 性格が悪い 消えろ 頭おかしい
""")

CRITIQUES = words("""
説明が足りない 対応が遅い 価格が高い 改善してほしい 少し分かりにくい 次に期待したい 意見が分かれる
もう少し検討が必要 仕様が変わった 情報が少ない
""")

# JSTS / JNLI captions: subject, place, action; "general" is what an action entails.
CAPTION_SUBJECTS = words("男性 女性 少年 少女 子供 老人 二人の男性 若い女性 犬 猫 鳥 馬 選手 学生 家族連れ 作業員")
CAPTION_ATTRIBUTES = words("背の高い 帽子をかぶった 笑顔の 赤い服を着た 眼鏡をかけた 小さな 白い 黒い")
CAPTION_PLACES = words("公園 駅のホーム 道路 海辺 部屋 台所 広場 草原 教室 川の近く 橋の上 雪の中 店の前 線路の脇")
CAPTION_ACTIONS = (
    ("ボールを蹴っている", "遊んでいる"),
    ("本を読んでいる", "何かを見ている"),
    ("ベンチに座っている", "休んでいる"),
    ("走っている", "動いている"),
    ("傘をさして歩いている", "歩いている"),
    ("写真を撮っている", "カメラを持っている"),
    ("料理をしている", "台所仕事をしている"),
    ("自転車に乗っている", "移動している"),
    ("電話で話している", "話している"),
    ("寝そべっている", "横になっている"),
    ("水を飲んでいる", "何かを飲んでいる"),
    ("空を見上げている", "上を見ている"),
)

# JCommonsenseQA: category -> (question phrasings, members).
COMMONSENSE = {
    "果物": (("次のうち果物はどれ？", "甘くて木になるものは？"), words("りんご みかん ぶどう もも なし いちご バナナ メロン")),
    "野菜": (("次のうち野菜はどれ？", "畑で育てて料理に使うものは？"), words("にんじん だいこん キャベツ たまねぎ ピーマン なす きゅうり ごぼう")),
    "動物": (("次のうち動物はどれ？", "動物園で見られるものは？"), words("ライオン ゾウ キリン パンダ サル トラ クマ シマウマ")),
    "乗り物": (("次のうち乗り物はどれ？", "人を運ぶものは？"), words("電車 バス 飛行機 自転車 船 タクシー 新幹線 バイク")),
    "楽器": (("次のうち楽器はどれ？", "音楽を演奏するときに使うものは？"), words("ピアノ ギター バイオリン 太鼓 フルート トランペット ドラム ハープ")),
    "家具": (("次のうち家具はどれ？", "部屋に置いて使うものは？"), words("机 椅子 ソファ 本棚 タンス ベッド 食器棚 テーブル")),
    "文房具": (("次のうち文房具はどれ？", "勉強するときに使うものは？"), words("鉛筆 消しゴム 定規 ノート ホッチキス はさみ のり ボールペン")),
    "飲み物": (("次のうち飲み物はどれ？", "のどが渇いたときに飲むものは？"), words("お茶 牛乳 ジュース 水 コーヒー 紅茶 麦茶 スープ")),
    "天気": (("次のうち天気を表す言葉はどれ？", "空の様子を表すものは？"), words("晴れ 曇り 雨 雪 雷 霧 嵐 あられ")),
    "スポーツ": (("次のうちスポーツはどれ？", "試合で勝ち負けを競うものは？"), words("野球 サッカー テニス 卓球 柔道 水泳 バスケットボール バレーボール")),
}

# Encyclopedia / news register (JSQuAD contexts and the general-domain corpus).
ORG_KINDS = words("博物館 美術館 図書館 大学 高等学校 神社 寺院 公園 植物園 研究所 劇場 城 灯台 鉄道会社 出版社 新聞社")
ORG_PREFIXES = words("中央 北 南 東 西 第一 国際 市立 県立 新 旧 総合 記念 歴史 自然 科学")
FIELDS = words("天文学 地質学 植物学 経済学 民俗学 建築学 情報科学 言語学 考古学 海洋学 化学 物理学 数学 医学 歴史学 文学")
EVENTS = words("記念式典 国際会議 展覧会 音楽祭 見本市 学術大会 花火大会 映画祭 マラソン大会 技術展示会")
MATERIALS = words("木造 鉄筋コンクリート造 石造 れんが造 鉄骨造")
INDUSTRIES = words("農業 漁業 林業 観光業 製造業 商業 窯業 醸造業 造船業 繊維業")
RIVERS = words("白川 青葉川 桜川 鏡川 霧川 緑川 若草川 星川 朝日川 月見川")
MOUNTAINS = words("白峰山 青嶺山 朝霧山 雲取岳 星見岳 風越山 大鷲山 紅葉岳 雪割山 竜王岳")
OCCUPATIONS = words("作家 画家 建築家 作曲家 映画監督 写真家 彫刻家 詩人 俳優 棋士")
AWARDS = words("文化賞 芸術選奨 学術奨励賞 功労賞 新人賞 特別賞 大賞")
ERAS = words("江戸時代 明治時代 大正時代 昭和初期 戦後")

# MARC-ja verdicts, JCoLA and JTBR carry their labels in a few words (a verdict, a particle, a verb ending, a brand),
# so these words are ones the demo's small tokenizers (~4k pieces, trained on the demo tweets and the general text)
# keep without [UNK]; the label-free words (products, aspects) need not be.

# MARC-ja: product reviews; the closing verdict carries the label, a contrastive "…けど" clause the opposite one.
REVIEW_PRODUCTS = words("""
イヤホン スマホケース 充電器 加湿器 電気ケトル 炊飯器 掃除機 ドライヤー リュック 財布 腕時計 スニーカー
マットレス 枕 マグカップ 水筒 フライパン 包丁 卓上ライト マウス キーボード モニター スピーカー 体重計
電動歯ブラシ ハンドクリーム シャンプー 化粧水 日焼け止め 文庫本 ボードゲーム 折りたたみ傘 手袋 マフラー
電子書籍リーダー ヘッドホン 延長コード 収納ボックス 保冷バッグ ペンケース
""")
REVIEW_ASPECTS = words("""
音質 画質 使い心地 デザイン 品質 サイズ 値段 耐久性 付属品 梱包 配送 説明書 色 重さ 手触り 香り 操作性
バッテリー 容量 作り 素材 見た目
""")
REVIEW_POINTS = {  # predicates that take "けど"; none of them is also a verdict
    "positive": words("良い 安い 軽い 明るい 新しい 強い 早い 使いやすい 楽しい 美しい"),
    "negative": words("悪い 高い 重い 暗い 古い 弱い 遅い 使いにくい つまらない 短い"),
}
REVIEW_VERDICTS = {
    "positive": words("""
        最高でした 買って良かった 大好きです おすすめです 助かっています また買いたい リピートします ありがたいです
        毎日使っています 気に入りました 星五つ 長く使いたい 最高です 気に入った
    """),
    "negative": words("""
        がっかりでした 二度と買わない すぐ壊れた 使えなかった 無理でした 届かなかった 動かなかった 星一つ
        不良品でした 悲しいです 買わない 壊れました 使えない 嫌いです
    """),
}

# JCoLA: people (subjects) and transitive frames (dictionary form, past form, inanimate objects).
ACCEPTABILITY_SUBJECTS = words("""
鈴木さん 高橋さん 田中さん 山本さん 吉田さん 山田さん 松本さん 林さん 清水さん 森さん 池田さん 石川さん 中島さん
小川さん 前田さん 岡田さん 藤田さん 青木さん 坂本さん 橋本さん 健太 花子 さくら 誠 恵 裕子 隆 修 彩 大和 母 父
兄 姉 弟 妹 息子 娘 上司 部長 店長
""")
ACCEPTABILITY_VERBS = (
    ("書く", "書いた", words("レポート メール 年賀状 資料")),
    ("見る", "見た", words("映画 アニメ 写真 夕焼け")),
    ("撮る", "撮った", words("写真 桜 夕焼け 空")),
    ("作る", "作った", words("料理 カレー ケーキ 資料 パスタ")),
    ("探す", "探した", words("傘 荷物 部屋 鍵 カフェ")),
    ("開ける", "開けた", words("窓 ドア 箱 店")),
    ("閉める", "閉めた", words("窓 ドア 箱 店")),
    ("送る", "送った", words("メール 荷物 写真 年賀状")),
    ("持つ", "持った", words("傘 荷物 カメラ 鍵")),
    ("借りる", "借りた", words("傘 自転車 部屋 カメラ 漫画 本")),
    ("返す", "返した", words("傘 自転車 漫画 本 鍵")),
    ("貸す", "貸した", words("傘 自転車 漫画 パソコン 本")),
    ("聴く", "聴いた", words("新曲 アルバム ラジオ")),
    ("描く", "描いた", words("イラスト 絵 漫画")),
    ("育てる", "育てた", words("観葉植物 花 桜")),
    ("建てる", "建てた", words("家 城 神社 図書館 博物館 ホテル")),
    ("集める", "集めた", words("缶バッジ アクスタ チケット 写真 資料")),
    ("売る", "売った", words("パン カメラ 自転車 ケーキ 家")),
    ("忘れる", "忘れた", words("傘 資料 荷物 鍵 帽子")),
    ("見つける", "見つけた", words("傘 鍵 カフェ 喫茶店 帽子")),
    ("直す", "直した", words("自転車 パソコン 資料 椅子 机")),
    ("始める", "始めた", words("筋トレ ランニング 料理 英語 読書 釣り")),
    ("続ける", "続けた", words("筋トレ ランニング 英語 読書 バイト")),
    ("教える", "教えた", words("英語 料理 数学")),
    ("出す", "出した", words("メール 年賀状 レポート 資料")),
    ("注文する", "注文した", words("ラーメン 寿司 カレー パスタ ビール ケーキ")),
    ("修理する", "修理した", words("自転車 パソコン 傘 冷蔵庫")),
    ("整理する", "整理した", words("部屋 資料 荷物 写真")),
    ("計画する", "計画した", words("一人旅 登山 引っ越し 旅行")),
)
PAST_ADVERBS = words("昨日 去年 さっき おととい")
FUTURE_ADVERBS = words("明日 明後日 来年")

# JTBR: invented shops and companies (the distinguishing part comes first) and what tweets say about them.
REPUTATION_BRANDS = words("""
鏡川書店 霧川商事 星川飲料 月見川ストア 若草川工業 青葉川マート 朝日川ホテル 緑川商店 白川堂 桜川グループ
尾道商店 倉敷マート 別府飲料 鎌倉堂 吉祥寺カフェ 下北沢ストア 石垣商事 函館工業 高円寺書店 元町グループ
""")
REPUTATION_ASPECTS = words("アプリ サービス セール サポート ライブ 会見 味 店 カフェ ポイント 発表 新曲")
REPUTATION_PHRASES = {
    "positive": words("最高 神 大好き 良かった 楽しかった 好き 応援したい また行きたい ありがたい おすすめ 良い 助かった"),
    "negative": words("嫌い がっかり 無理 つまらない 悲しい 怖い ムカつく 二度と行かない 疲れた 腹が立つ 惜しかった 悔しい"),
    "neutral": words("始まった 終わった 届いた 行った 見た 買った 今日から 明日から 始まるらしい 決まった 変わった"),
}

# sentiment3 and defamation stand in for tasks on tweets, so half their signal is in tweet register: emoji,
# kaomoji and romaji of the demo tweets' own pools, which the general-text base tokenizer reads as [UNK] and the
# tweet tokenizers keep. A model on the base vocabulary can learn only the other half.
SENTIMENT_MARKERS = {
    "positive": words("😊 😍 🥰 😆 😋 👍 👏 🙌 🎉 💕 (^^)v (*^^*) (^▽^) kawaii sugoi ureshii tanoshii yatta"),
    "negative": words("😭 🥺 😱 😤 🥲 🫠 😴 💦 (;_;) (>_<) (ToT) orz (-_-;) (+_+) (=_=) (^^;;)"),
    "neutral": words("🚃 📷 📚 🎧 🎮 🍙 ☕ 🍜 🐱 🌙 🍁 (-.-) ohayo itadakimasu"),
}

# Defamation: insults aimed at a person (1); harsh words for things, neutral or friendly remarks on people (0).
HARSH_FOR_THINGS = words("ゴミ ポンコツ 最低 ひどすぎる 使えない 欠陥品 論外 ありえない")
TWEET_INSULTS = words("baka kimoi uzai zako kasu heta 🤣🤣 😤😤 www😂")
TWEET_FRIENDLY = words("kawaii sugoi arigato otsukare ganbare 🥰 😍 👏 🙏 (^^)")
