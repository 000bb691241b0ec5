"""The demo world's fixed cast and catalogue: suppliers and their products, MCNs, creators
with their niches, names for shoppers, and the words they use. Everything random about
the world is drawn from these with a seeded ``random.Random``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProductSpec:
    cn: str
    en: str
    category: str
    price: float  # yuan, the first SKU
    commission_pct: int
    skus: tuple[str, ...]
    blurb: str

    @property
    def title(self) -> str:
        return f"{self.cn} {self.en}"


@dataclass(frozen=True, slots=True)
class SupplierSpec:
    handle: str
    email: str
    city: str
    products: tuple[ProductSpec, ...]


@dataclass(frozen=True, slots=True)
class CreatorSpec:
    handle: str
    niche: tuple[str, ...]  # categories they post about
    mcn: int  # index into MCNS
    share_pct: int  # the MCN's share of the creator's commission
    reach: float  # how much attention they get (followers, likes)
    persona_cn: str
    persona_en: str
    carries: str | None = None  # a supplier whose whole range is in their showcase


# The catalogue: "@handle email city" starts a supplier; each product line is
# 中文名 | English name | category | price (yuan) | commission % | SKU names | blurb
CATALOG = """
@greenleaf_tea supplier@example.com 杭州 Hangzhou
西湖龙井 | Longjing green tea | food | 168.00 | 20 | 250 g tin; 500 g gift box | 明前头采，豆香清甜。
安溪铁观音 | Tieguanyin oolong | food | 128.00 | 18 | 250 g; 500 g | 兰花香，七泡有余香。
云南普洱茶饼 | Pu'er tea cake 357 g | food | 238.00 | 15 | 2019 ripe; 2021 raw | 越陈越香的一饼。
武夷山大红袍 | Da Hong Pao rock tea | food | 198.00 | 22 | 200 g | 岩骨花香，焙火足。
桂花乌龙冷泡茶 | Osmanthus oolong cold-brew bags | food | 49.90 | 30 | 15 bags; 30 bags | 冷水泡四小时即可。
龙泉青瓷杯 | Celadon tea cup | home | 88.00 | 15 | pale green; plum blue | 手工拉坯，釉色温润。
宜兴紫砂壶 | Yixing clay teapot | home | 459.00 | 12 | 180 ml; 240 ml | 原矿紫泥，出水利落。
竹制茶盘 | Bamboo tea tray | home | 139.00 | 15 | small; large | 整竹拼接，带储水。
玻璃公道杯 | Glass tea pitcher | home | 39.90 | 25 | 300 ml | 高硼硅玻璃，耐热。
手工凤梨酥 | Pineapple cakes, 12 pcs | food | 68.00 | 20 | 12 pcs; 24 pcs | 真凤梨馅，不甜腻。
@bloom_lab bloom@example.com 上海 Shanghai
玻尿酸补水面膜 | Hyaluronic sheet mask, 10 pcs | beauty | 89.00 | 30 | 10 pcs; 20 pcs | 一片补水，上脸不黏。
补水精华 | Hydrating essence 30 ml | beauty | 229.00 | 30 | 30 ml; 50 ml | 三重玻尿酸，水润一整天。
烟酰胺美白精华 | Niacinamide brightening serum | beauty | 199.00 | 28 | 30 ml | 5% 烟酰胺，温和提亮。
氨基酸洁面乳 | Amino-acid gentle cleanser | beauty | 79.00 | 25 | 120 g | 洗完不紧绷。
清爽防晒霜 | Light sunscreen SPF50+ | beauty | 129.00 | 26 | 50 ml | 不搓泥，不泛白。
丝绒哑光口红 | Velvet matte lipstick | beauty | 149.00 | 35 | classic red; rosewood; maple | 薄涂日常，厚涂气场。
气垫粉底 | Cushion foundation | beauty | 189.00 | 30 | ivory; natural | 轻薄遮瑕，持妆八小时。
积雪草修护霜 | Centella repair cream | beauty | 159.00 | 28 | 50 g | 换季泛红救星。
温和卸妆油 | Cleansing oil 200 ml | beauty | 119.00 | 25 | 200 ml | 乳化快，不闷痘。
护手霜礼盒 | Hand cream gift set | beauty | 69.00 | 20 | 3 × 30 g | 三种花香，送人好看。
@silk_lane silk@example.com 苏州 Suzhou
苏绣丝巾 | Suzhou silk scarf | fashion | 399.00 | 25 | peony; lotus | 手工苏绣，双面异色。
真丝睡衣 | Mulberry silk pyjamas | fashion | 599.00 | 22 | S; M; L | 22 姆米桑蚕丝。
新中式盘扣衬衫 | Frog-button linen shirt | fashion | 259.00 | 20 | S; M; L | 亚麻透气，通勤也能穿。
马面裙 | Mamian pleated skirt | fashion | 329.00 | 24 | ink blue; vermilion | 织金马面，行走有风。
羊绒围巾 | Cashmere scarf | fashion | 459.00 | 18 | camel; grey | 内蒙古山羊绒。
帆布托特包 | Canvas tote bag | fashion | 89.00 | 20 | natural; black | 能装下笔记本电脑。
淡水珍珠耳环 | Freshwater pearl earrings | fashion | 169.00 | 30 | 7 mm | 925 银针，不过敏。
复古老爹鞋 | Chunky dad sneakers | fashion | 349.00 | 15 | 37; 38; 39; 40 | 增高五厘米。
针织开衫 | Knit cardigan | fashion | 279.00 | 20 | oat; sage | 软糯不扎。
渔夫帽 | Bucket hat | fashion | 59.00 | 20 | beige; black | 可折叠，防晒。
@nest_home nest@example.com 佛山 Foshan
竹制砧板 | Bamboo cutting board | home | 59.90 | 10 | medium; large | 不掉渣，不发霉。
珐琅铸铁锅 | Enamel cast-iron pot 24 cm | home | 499.00 | 15 | cherry red; cream | 炖汤焖饭都好用。
桂花香薰蜡烛 | Osmanthus scented candle | home | 89.00 | 25 | 200 g | 大豆蜡，燃烧四十小时。
天然乳胶枕 | Natural latex pillow | home | 199.00 | 20 | standard; low | 泰国乳胶，回弹好。
纯棉四件套 | Cotton bedding set | home | 369.00 | 18 | 1.5 m; 1.8 m | 60 支长绒棉。
陶瓷餐具套装 | Ceramic dinnerware set | home | 259.00 | 15 | 4 people; 6 people | 釉下彩，可进洗碗机。
收纳盒三件套 | Stackable storage boxes | home | 79.00 | 20 | 3 pcs | 衣柜瞬间整齐。
手冲咖啡壶 | Pour-over coffee kettle | home | 149.00 | 18 | 600 ml | 细口出水稳。
桌面绿萝 | Desk plant: pothos | home | 35.00 | 15 | small pot | 好养活，懒人友好。
空气炸锅 | Air fryer 5 L | home | 399.00 | 12 | 5 L | 少油也酥脆。
@spark_gadgets spark@example.com 深圳 Shenzhen
无线耳机 | Wireless earbuds | electronics | 299.00 | 8 | white; black | 续航三十小时。
降噪头戴耳机 | Noise-cancelling headphones | electronics | 899.00 | 6 | black; silver | 地铁里也安静。
磁吸充电宝 | Magnetic power bank 10000 mAh | electronics | 159.00 | 10 | white; purple | 吸上就充。
机械键盘 | Mechanical keyboard | electronics | 399.00 | 8 | red switch; brown switch | 热插拔轴体。
智能手环 | Smart fitness band | electronics | 229.00 | 10 | black; pink | 睡眠心率全记录。
便携投影仪 | Mini projector | electronics | 1299.00 | 6 | 1080p | 白墙就是电影院。
护眼台灯 | LED desk lamp | electronics | 189.00 | 12 | white | 无频闪，色温可调。
蓝牙音箱 | Bluetooth speaker | electronics | 259.00 | 10 | blue; grey | 防水，能带去露营。
拍立得相机 | Instant camera | electronics | 499.00 | 8 | mint; pink | 咔嚓一下就出片。
声波电动牙刷 | Sonic electric toothbrush | electronics | 199.00 | 12 | white; black | 三种模式，一充用两月。
@trail_kids trail@example.com 成都 Chengdu
瑜伽垫 | Yoga mat 6 mm | sports | 129.00 | 18 | sage; sand | 防滑，不回弹过度。
速干运动T恤 | Quick-dry running tee | sports | 99.00 | 20 | S; M; L | 出汗不贴身。
登山徒步鞋 | Hiking boots | sports | 459.00 | 15 | 39; 41; 43 | 防水大底抓地。
负重跳绳 | Weighted jump rope | sports | 49.00 | 25 | standard | 每天十分钟。
露营折叠椅 | Camping folding chair | sports | 139.00 | 18 | khaki; green | 收起来只有一把伞大。
婴儿纱布浴巾 | Muslin baby towel | baby | 79.00 | 20 | 2 pcs | 六层纱布，越洗越软。
宝宝吸盘辅食碗 | Suction baby bowl | baby | 45.00 | 22 | blue; pink | 吸得牢，摔不掉。
儿童保温杯 | Kids' insulated bottle | baby | 89.00 | 20 | dino; bunny | 防漏吸管，保温十二小时。
儿童绘本 | Picture book: The Little Tea Farmer | books | 45.00 | 12 | hardcover | 讲茶园一年四季的故事。
唐诗三百首 | 300 Tang Poems, illustrated | books | 68.00 | 15 | hardcover | 注音彩绘版。
"""


def _parse_catalog(text: str) -> tuple[SupplierSpec, ...]:
    suppliers: list[SupplierSpec] = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        if line.startswith("@"):
            handle, email, city = line[1:].split(" ", 2)
            suppliers.append(SupplierSpec(handle, email, city, ()))
            continue
        cn, en, category, price, pct, skus, blurb = (f.strip() for f in line.split("|"))
        spec = ProductSpec(cn, en, category, float(price), int(pct), tuple(s.strip() for s in skus.split(";")), blurb)
        last = suppliers[-1]
        suppliers[-1] = SupplierSpec(last.handle, last.email, last.city, (*last.products, spec))
    return tuple(suppliers)


SUPPLIERS = _parse_catalog(CATALOG)

# handle, email, and the contract share offered (percent of the creator's commission)
MCNS = (("starlight_mcn", "mcn@example.com"), ("bamboo_media", "bamboo@example.com"))

C = CreatorSpec
CREATORS = (
    C("lin_creates", ("food", "home"), 0, 30, 3.0, "慢生活和一杯好茶", "slow living and tea", "greenleaf_tea"),
    C("xiaoyu_beauty", ("beauty",), 0, 35, 4.0, "干皮护肤", "skincare for dry skin"),
    C("momo_makeup", ("beauty", "fashion"), 0, 30, 2.5, "通勤妆容", "everyday make-up"),
    C("ayi_cooks", ("home", "food"), 1, 25, 2.0, "家常菜", "home cooking"),
    C("zhou_techtalk", ("electronics",), 1, 30, 3.5, "数码测评", "gadget reviews"),
    C("nana_ootd", ("fashion",), 0, 30, 3.0, "每日穿搭", "outfit of the day"),
    C("run_with_kai", ("sports", "electronics"), 1, 20, 1.5, "跑步和健身", "running and fitness"),
    C("mama_qing", ("baby", "books"), 0, 25, 2.0, "育儿日常", "life with a toddler"),
    C("jia_home_diary", ("home",), 1, 25, 1.8, "小家改造", "small-flat makeovers"),
    C("tea_and_pages", ("books", "food"), 1, 20, 1.0, "读书和下午茶", "books and afternoon tea"),
    C("campfire_leo", ("sports", "home"), 0, 25, 1.2, "露营徒步", "camping and hiking"),
    C("sisi_skinlab", ("beauty",), 0, 40, 2.2, "成分党护肤", "ingredient-first skincare"),
)

GIVEN_NAMES = (
    "mei", "xiaoli", "yuki", "wenwen", "jiajia", "haoran", "zixuan", "yiming", "tingting", "lele",
    "dandan", "xiaobai", "qiqi", "ruby", "coco", "kiki", "leon", "jason", "amy", "cici",
    "fanfan", "xinyi", "yutong", "zihan", "mingming", "lulu", "beibei", "tiantian", "momo", "sunny",
    "chen", "wang", "zhang", "liu", "yang", "huang", "zhao", "wu", "zhou", "xu",
)  # fmt: skip
NAME_TAILS = (
    "", "_hz", "_sh", "_bj", "_cd", "_sz", "_gz", "_daily", "_eats", "_reads",
    "_runs", "_shops", "_travels", "_cat", "_mama", "_coffee", "_studio", "_life", "_notes", "_wang",
)  # fmt: skip
CITIES = (
    ("杭州", "Hangzhou"), ("上海", "Shanghai"), ("北京", "Beijing"), ("成都", "Chengdu"),
    ("深圳", "Shenzhen"), ("广州", "Guangzhou"), ("南京", "Nanjing"), ("武汉", "Wuhan"),
    ("西安", "Xi'an"), ("重庆", "Chongqing"),
)  # fmt: skip
STREETS = ("文三路", "南京西路", "建国门外大街", "春熙路", "深南大道", "天河路", "中山路", "解放大道")

CATEGORY_TAGS = {
    "food": ("美食", "tea"),
    "home": ("家居", "home"),
    "beauty": ("护肤", "skincare"),
    "fashion": ("穿搭", "ootd"),
    "electronics": ("数码", "gadgets"),
    "sports": ("运动", "fitness"),
    "baby": ("育儿", "mumlife"),
    "books": ("读书", "books"),
}

# {cn}/{en}: the product; {pcn}/{pen}: the creator's persona
POST_TITLES = (
    "{cn}用了一个月，说点真心话 One month with the {en}",
    "空瓶记：{cn} Empties review: {en}",
    "{cn}到底值不值？ Is the {en} worth it?",
    "三分钟看懂{cn} {en} in three minutes",
    "被问爆的{cn} Everyone asks about this {en}",
    "平价替代：{cn} Budget pick: {en}",
    "{cn}开箱 Unboxing the {en}",
    "{pcn}必备：{cn} A {pen} essential: {en}",
    "回购第三次的{cn} Third time buying the {en}",
    "{cn}的五种用法 Five ways to use the {en}",
    "送礼不踩雷：{cn} A safe gift: {en}",
    "{cn}真实测评 Honest review: {en}",
)
VIDEO_TITLES = (
    "30秒看{cn} 30 seconds with the {en}",
    "跟我一起用{cn} Use the {en} with me",
    "{cn}上手实拍 {en}, hands-on",
    "一镜到底：{cn} One take: {en}",
)
POST_OPENERS = (
    "姐妹们，这次真的要夸一下。",
    "不是广告，自己花钱买的，用了挺久才来写。",
    "最近被问了好多次，统一回复一下～",
    "先说结论：值得。",
    "这篇写得有点长，但都是干货。",
    "Honestly did not expect to like this so much.",
    "A few of you asked, so here is the full story.",
)
POST_CLOSERS = (
    "链接放在橱窗里了，需要自取。Link is in my showcase.",
    "有问题评论区问我，看到都会回！Ask me anything below.",
    "觉得有用就收藏吧～ Save it for later.",
    "下一篇想看什么？Tell me what to review next.",
)

CONSUMER_NOTES = (
    ("周末{city}咖啡馆打卡", "Weekend café find in {city_en}", "coffee"),
    ("{city}的晚霞太美了", "Sunset over {city_en}", "sunset"),
    ("第一次做红烧肉，居然成功了", "My first braised pork actually worked", "cooking"),
    ("雨天窝在家看书", "Rainy day, book and blanket", "reading"),
    ("{city}晨跑路线分享", "My morning run in {city_en}", "running"),
    ("这周的便当合集", "This week's lunch boxes", "bento"),
    ("阳台小花园又开花了", "The balcony garden is blooming again", "plants"),
    ("和猫主子的周末", "Weekend with the cat", "cat"),
    ("{city}citywalk路线", "A city walk through {city_en}", "citywalk"),
    ("618 买了什么？晒单", "What I bought this sale", "haul"),
    ("租房小屋改造前后", "Rented room, before and after", "makeover"),
    ("记录一下今天的早餐", "Today's breakfast", "breakfast"),
)
CONSUMER_NOTE_BODIES = (
    "随手记录一下，今天心情不错。",
    "有没有同城的朋友推荐更多好去处？",
    "Small things, good day.",
    "拍得一般，但是真的很开心。",
    "下次还要再来！",
)

COMMENTS = (
    "求链接！Link please!",
    "已下单，坐等收货 Just ordered!",
    "这个颜色好好看 Love this colour",
    "敏感肌能用吗？Is it OK for sensitive skin?",
    "收藏了，谢谢分享 Saved, thanks!",
    "和我用的感受一模一样",
    "博主的图片拍得好有氛围",
    "价格有点贵，等活动",
    "Does it ship to Hong Kong?",
    "用了一周，确实好用 Used it a week, it works",
    "多少钱呀？How much?",
    "种草了 Sold!",
    "求出一期详细教程",
    "已经回购第二次了",
)
REPLIES = (
    "可以的～ Yes, it is!",
    "链接在橱窗里哦 Link is in my showcase.",
    "谢谢喜欢！Thank you!",
    "下期安排 Coming in the next post.",
    "敏感肌先在耳后试一下 Patch test first.",
)
REVIEWS = (
    "香气很正，回购。Lovely, will buy again.",
    "Exactly as shown, fast delivery.",
    "包装很用心 nicely packed.",
    "跟博主推荐的一样好用。",
    "物流很快，第二天就到了。",
    "质量不错，性价比高 Good value.",
    "颜色比图片稍深，但还是喜欢。",
)
RETURN_REASONS = (
    "颜色和图片不一样 colour differs",
    "尺码不合适 wrong size",
    "买重复了 ordered twice by mistake",
)
