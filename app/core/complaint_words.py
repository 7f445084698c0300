"""The words routing reads in customers' open text: complaint keywords, praise, the keywords of each
category and of urgent matters, and the Chinese negations with the words that may stand between a negation
and what it negates. ``app.core.routing_keywords`` matches them; ``app.core.routing.RoutingSettings`` starts
from them (an admin's routing rules add their own keywords).
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: A written complaint: open text with one of these makes the response negative.
#: Chinese has no spaces, so these are phrases that are negative wherever they stand; a bare
#: adjective that is also praise or part of an everyday word (热 in 热情, 臭 in 臭豆腐) only comes
#: with 太 or another word that makes it a complaint.
COMPLAINT_KEYWORDS: tuple[str, ...] = (
    "投诉", "不满意", "很不满", "失望", "很差", "太差", "真差", "好差", "极差", "差劲", "差评", "越来越差",
    "服务差", "态度差", "质量差", "环境差", "卫生差", "隔音差", "态度不好", "服务不好", "不好吃", "不太好",
    "不怎么样", "一般般", "很一般", "太一般", "一般吧", "不如以前", "大不如前",
    "不如上次", "不如之前", "下降",
    "态度恶劣", "不耐烦", "爱答不理", "翻白眼", "很凶", "太凶", "推脱", "推诿", "踢皮球", "不熟练",
    "太慢", "很慢", "好慢", "有点慢", "慢死", "太久", "半天", "迟到", "来晚", "延期", "延误", "拖延",
    "脏", "污渍", "污垢", "发霉", "霉味", "烟味", "怪味", "异味", "臭味", "太臭", "很臭", "好臭", "发臭",
    "腥味", "很腥", "黏糊糊", "苍蝇", "蟑螂", "老鼠", "虫子", "有虫", "堵了", "太挤", "很挤", "太暗",
    "太吵", "很吵", "听不见", "太冷", "冻得", "冷死", "太热了", "热得要命", "热死", "时有时无",
    "没有纸", "没纸", "没有卫生纸", "没有洗手液", "没有肥皂", "没有热水", "连不上", "用不了", "打不开",
    "坏了", "摔坏", "变质", "过期", "难吃", "难喝", "不新鲜", "夹生", "是生的", "没熟", "不熟", "凉了",
    "是凉的", "是温的", "烂了", "冒充", "以次充好", "死鱼", "头发", "有头发", "开线", "开胶", "缩水",
    "划痕", "破损", "太咸", "很咸", "好咸", "太淡", "太甜", "太油", "很油", "太腻", "太辣", "太酸", "太硬",
    "太少", "吃不饱", "难找", "太难", "太单调", "坨了", "肚子疼", "肚子痛", "不加热", "不符", "描述的不一样", "货不对板",
    "上错", "送错", "开错", "算错", "拿错", "搞错", "弄错", "错了", "洒了", "撒了", "漏了",
    "贵了", "太贵", "很贵", "好贵", "真贵", "偏贵", "有点贵", "死贵", "不值", "性价比低", "性价比太低",
    "性价比不高", "太高了", "涨价", "涨了", "越来越少", "太麻烦", "很麻烦",
    "退款", "退钱", "乱收费", "多收", "多算", "没人理", "没人管", "不理", "没人回", "没回复", "没有回复",
    "没人回复", "没有答复", "没答复", "没消息", "没人联系", "没有联系", "没人通知", "没有通知", "不通知",
    "没通知", "没人告诉", "没告诉", "没有告诉", "才告诉", "没人说", "没有提前说", "没提前说", "也没打",
    "没打电话", "占线", "没兑现", "没有兑现", "看不懂", "解释不清", "说不清",
    "不专业", "糟糕", "恶心", "垃圾", "骗", "再也不来", "不会再来", "上菜慢", "不干净", "不够干净",
    "不太干净", "不是很干净", "不卫生", "没洗干净", "没擦干净",
    "complaint", "complain", "terrible", "awful", "awfull", "horrible", "rude", "dirt", "filthy", "broken",
    "slow", "refund", "disappoint", "worst", "bad", "poor", "unacceptable", "unhappy",
    "dissatisfied", "unfriendly", "overcharge", "wrong", "waste", "disgust", "mess",
    "not satisfied", "not happy", "not good", "wasn't good", "weren't good", "not clean", "wasn't clean",
    "never again", "expensive", "overpriced", "undercooked", "stale", "tasted off", "tastes off", "gone off",
    "a hair", "freezing", "too cold", "too hot", "too loud", "noisy", "crowded", "sticky", "smelled of",
    "smells of", "no soap", "no toilet paper", "ignored", "charged twice", "late", "torn", "fell apart",
    "tiny portion", "small portion", "could be better", "could have been better", "waited forever",
    "out the door", "charged me twice", "charged us twice", "double charged", "nobody called", "no one called", "never called", "nobody did", "never got",
    "never replied", "no reply",
    "都没上", "还没上", "没上齐", "道歉都没有", "没有道歉", "连句道歉", "排到门口", "排长队", "一直催", "催我们",
    "赶我们", "钢丝球", "异物", "塑料", "石子", "沙子", "没声音", "没反应", "不制冷", "不出水", "冲不下去",
    "转不到", "打不通", "不能用", "掉色", "褪色", "起球", "漏水", "变形", "蚊子", "尿骚", "骚味", "好久",
    "很久", "坏的", "没擦", "没收拾", "没人收拾", "没打扫", "不说一声", "也不说", "不发短信", "也不发", "说法都不一样", "说法不一",
    "一个说法", "怀疑人生", "没人招呼", "没人接", "没人处理", "没人问", "才到", "才来", "超时", "太软",
    "腰疼", "不进去", "不进电", "充不上", "关不严", "关不上", "打不进", "锁不上", "积水", "没有提醒", "没提醒",
    "声很大", "声音很大", "声音太大", "噪音", "没更新", "白跑", "没收到", "虚高", "很糟", "太糟", "没人提前通知", "没有提前通知", "没提前通知", "没人给",
    "burnt", "burned", "overcooked", "raw", "tiny", "uncomfortable", "took ages", "for ages", "took forever", "never came", "lukewarm",
    "bland", "nobody came", "no one came", "blocked", "clogged",
    "asked twice", "asked three times", "had to wait", "never told", "didn't tell", "nobody told", "no one told",
    # general vocabulary of displeasure (colloquial and 网络用语), of staff behaving badly, of faulty goods
    "一言难尽", "不敢恭维", "无语", "离谱", "坑人", "被坑", "坑钱", "宰客", "踩雷", "踩坑", "崩溃", "奇葩",
    "莫名其妙", "敷衍", "糊弄", "忽悠", "甩脸", "脸色", "骂人", "骂我", "吼", "冷漠", "冷冰冰", "嫌弃", "冤大头",
    "刺客", "粗糙", "劣质", "次品", "假货", "山寨", "起毛", "蛋壳", "骨渣", "玻璃渣", "碎了", "裂了", "卡死",
    "卡顿", "死机", "闪退", "崩了", "丢了", "失灵", "不灵", "洒得", "撒得", "漏得", "晚到", "放错", "给错",
    "发错", "装错", "写错", "记错", "偏高", "偏少", "偏小", "偏甜", "偏淡", "偏硬", "上成", "送成", "拿成",
    "洒在", "撒在", "泼在", "傲慢", "高冷", "嚣张", "摆架子", "看不起人", "爱买不买", "昏暗", "潮湿", "闷热",
    "破旧", "简陋", "陈旧", "狭窄", "嘈杂", "刺鼻", "不及格", "名不副实", "徒有虚名", "言过其实", "智商税",
    "无奈", "出问题", "石沉大海", "没下文", "一拖再拖", "不准", "sour", "out of order", "short-changed",
    "shortchanged", "covered in", "expected better", "expected more", "at best", "rolled his eyes",
    "rolled her eyes", "rolled their eyes",
    "soggy", "greasy", "watery", "rubbery", "mushy", "chewy", "inedible", "flavourless", "tasteless",
    "was dry", "were dry", "too dry", "a fly", "a bug", "bugs", "insect", "cockroach", "mould", "mold", "mildew",
    "damp", "stain", "ripped", "worn out", "shabby", "paper thin", "smelled like", "smells like", "smelly",
    "stank", "stink", "dismissive", "condescending", "impatient", "unhelpful", "arrogant", "unanswered",
    "no response", "so loud", "was cold", "were cold", "arrived cold", "served cold", "gone cold",
) + tuple(
    # 太慢 很慢 特别慢 慢得, 是臭的: a degree word (or 是…的) makes these adjectives a complaint; 冷/热/淡/甜/辣
    # stay out (太热情, 好辣 can be praise).
    phrase
    for adjective in ("慢", "脏", "臭", "贵", "差", "吵", "挤", "咸", "油腻", "腥", "乱", "凶", "闷", "暗",
                      "硬", "久", "烂", "馊", "难吃", "难喝", "难找", "麻烦", "单调", "破", "旧", "失望", "柴")
    for phrase in (
        *(degree + adjective for degree in ("太", "很", "好", "真", "特别", "非常", "超", "超级", "巨", "贼",
                                             "有点", "有些", "比较", "挺", "极其", "也", "又", "都", "偏")),
        "是" + adjective + "的", adjective + "得",
    )
)

#: Praise that a negation turns into a complaint: 不是很满意, 不太新鲜, not very happy, wasn't hot.
PRAISE_WORDS: tuple[str, ...] = (
    "满意", "好吃", "好喝", "好", "干净", "卫生", "新鲜", "热情", "专业", "耐心", "友好", "礼貌", "周到",
    "及时", "准时", "舒服", "舒适", "划算", "实惠", "清楚", "方便", "热", "烫", "满足", "合理", "正宗",
    "好用", "熟练", "值", "推荐", "脆", "嫩", "香", "入味",
    "快", "安静", "宽敞", "隔音", "准确", "靠谱", "负责", "认真", "用心", "贴心", "麻利", "稳定", "结实",
    "耐用", "齐全", "丰富", "精致", "地道", "喜欢", "完美", "优秀", "漂亮", "好看", "明白", "解决", "重视",
    "保温", "感动", "棒", "赞", "给力", "合适", "刚好", "正好",
    "happy", "good", "great", "clean", "fresh", "hot", "warm", "friendly", "helpful", "worth", "satisfied",
    "pleased", "impressed", "nice", "tasty", "polite", "professional", "quick", "fast", "recommend",
)
#: Idioms where a negated praise word is no complaint (不好意思: "excuse me").
PRAISE_IDIOMS: tuple[str, ...] = (
    "不好意思", "好不好", "不好说", "不热闹", "快递", "快餐", "不快不慢", "喜欢的", "什么好",
)

#: Topic words per category; a topic word need not be negative (服务员, toilet). Only the clauses
#: that hold the complaint count when there is one ("服务员很热情，可惜菜凉了" is about the food).
CATEGORY_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "product": (
        "质量", "坏", "难吃", "难喝", "味道", "口味", "过期", "变质", "不新鲜", "新鲜", "菜品", "饭菜", "产品",
        "商品", "功能", "缺货", "故障", "瑕疵", "破损", "分量", "份量", "菜量", "异物", "头发", "虫子", "有虫",
        "价格", "价钱", "贵", "不值", "性价比", "手续费", "收费", "涨价", "涨了", "咸", "淡", "甜", "油",
        "辣", "腻", "腥", "酸", "硬", "凉了", "是凉的", "是温的", "烫", "夹生", "生的", "没熟", "熟", "烂了",
        "冒充", "以次充好", "死鱼", "活鱼", "米饭", "汤", "肉", "鱼", "虾", "鸭", "鸡", "面条", "包子",
        "馅", "刺", "坨", "早餐", "咖啡", "奶茶", "蛋糕", "甜品", "水果", "好吃", "吃不饱", "肚子",
        "衣服", "鞋", "开线", "开胶", "缩水", "划痕", "屏幕", "手机", "设备", "零件", "电饭煲", "加热",
        "尺码", "描述", "货不对板", "不符", "钢丝球", "异物", "耳机", "声音", "裤子", "掉色", "褪色", "起球",
        "面包", "充电宝", "充电", "soup", "lukewarm", "bland", "脆", "柴", "炒饭", "品种",
        "quality", "broken", "taste", "tasted", "tasteless", "flavour", "flavor", "stale", "expired",
        "product", "item", "food", "dish", "meal", "defect", "defective", "faulty", "feature",
        "portion", "out of stock", "hair", "expensive", "overpriced", "price", "undercooked", "coffee",
        "chicken", "fish", "sandwich", "salad", "shoes", "fell apart", "cold", "steak", "burnt", "burned",
        "overcooked", "raw",
        # general vocabulary: food and drink, goods and what they are made of, software delivered, price
        "菜", "食物", "食材", "口感", "饮料", "饮品", "啤酒", "酒水", "果汁", "鸡蛋", "蛋", "牛肉", "羊肉", "猪肉",
        "排骨", "海鲜", "龙虾", "螃蟹", "蔬菜", "主食", "甜点", "雪糕", "冰淇淋", "汉堡", "薯条", "披萨", "烧烤",
        "锅底", "汤底", "调料", "套餐", "做工", "材质", "面料", "线头", "质感", "拉链", "鞋底", "面膜", "化妆品",
        "护肤品", "电池", "充电器", "电器", "家电", "电脑", "系统", "软件", "数据", "报表", "bug", "版本", "货",
        "次品", "假货", "正品", "尺寸", "实物", "保温", "过敏", "费用", "利息", "利率", "冤大头", "刺客", "宰客",
        "卡死", "死机", "闪退", "买的", "新买", "刚买", "买回来", "到货", "收到的", "吹风机", "打印机", "墨盒",
        "行李箱", "手表", "眼镜", "玩具", "salty", "sweet", "sour", "spicy", "milk", "fries",
        "burger", "fries", "pasta", "pizza", "dessert", "bread", "drink", "zip", "jacket", "shirt", "trousers",
        "size", "software", "crash", "damaged", "worth", "money", "soggy", "greasy", "chewy", "tasteless",
    ),
    "service": (
        "排队", "排了", "等待", "等了", "等位", "半天", "太久", "久", "服务", "态度", "服务员", "店员", "员工", "工作人员", "收银",
        "上菜", "慢", "售后", "退换", "退货", "维修", "不耐烦", "不专业", "效率", "不熟练", "业务", "柜员",
        "柜台", "窗口", "前台", "入住", "大堂经理", "保安", "师傅", "工程师", "上门", "安装", "迟到",
        "理人", "不理", "爱答不理", "翻白眼", "凶", "推脱", "推诿", "玩手机", "结账", "买单", "多收", "多算",
        "发票", "开错", "上错", "送错", "外卖", "骑手", "配送", "洒了", "撒了", "叫号", "加水", "试衣间", "都没上", "还没上", "上齐", "道歉", "等餐", "等到", "迎宾", "招呼", "送餐", "超时", "才到", "才来", "催", "队伍", "收银台",
        "queue", "wait", "rude", "staff", "waiter", "waitress", "employee", "cashier", "slow", "service",
        "after-sales", "after sales", "return", "repair", "attitude", "unfriendly", "ignore", "receptionist",
        "checkout", "counter", "delivery", "order", "charged", "forever", "bill", "asked twice", "took ages", "for ages", "drinks",
        # general vocabulary: who serves and how, the steps of being served
        "出餐", "点餐", "点单", "没上", "流程", "手续", "办理", "办事", "响应", "老板", "老板娘", "店长", "导购",
        "销售", "快递员", "配送员", "小哥", "司机", "骂", "吼", "甩脸", "脸色", "冷漠", "敷衍", "怠慢", "赔",
        "预订", "放错", "少送", "漏送", "晚到", "物流", "快递", "分钟", "上成", "送成", "拿成", "保洁", "敲门",
        "审批", "推销", "交货", "供应商", "拖了", "一拖再拖", "傲慢", "高冷", "invoice", "chase", "rolled",
        "short-changed", "shortchanged", "查房", "退房", "挂失", "开户", "顾问", "实施",
        "manager", "forgotten", "driver", "address", "seated", "dismissive", "impatient", "unhelpful", "minutes",
    ),
    "communication": (
        "没人通知", "没有通知", "通知", "电话", "回电", "回复", "解释", "沟通", "告知", "答复", "联系",
        "承诺", "说好的", "告诉", "才告诉", "没人说", "提前说", "兑现", "没消息", "消息", "占线", "留言",
        "说明书", "看不懂", "说不清", "解释不清", "热线", "人工", "短信", "营业时间", "更新", "网上", "优惠券", "没收到", "说好", "提醒", "说一声", "说法", "提前通知",
        "call", "phone", "callback", "explain", "explanation", "communicate", "communication",
        "inform", "reply", "replied", "respond", "email", "e-mail", "message", "promise", "told", "ring",
        "never called", "no one called", "nobody called", "no reply", "never replied", "no response",
        "nobody did", "never told", "didn't tell", "nobody told", "no one told",
        # general vocabulary: telling, answering, keeping someone informed
        "说明", "同步", "跟进", "客服", "才知道", "才说", "没说", "不说", "反馈", "回应", "讲清楚", "说清楚",
        "mention", "unanswered", "on hold", "cut off", "update", "explained", "informed", "said", "邮件", "石沉大海",
        "确认", "下文", "不接", "不回", "warned", "emails",
    ),
    "environment": (
        "脏", "吵", "噪音", "洗手间", "厕所", "卫生间", "洗手池", "卫生", "温度", "太热", "太冷", "空调",
        "冷气", "冻得", "热得", "臭", "臭味", "异味", "烟味", "霉味", "灯光", "灯", "太暗", "座位", "拥挤",
        "太挤", "停车", "环境", "装修", "苍蝇", "蟑螂", "老鼠", "垃圾桶", "桌子", "地上", "地板", "滑",
        "黏", "纸", "音乐", "隔音", "床单", "枕头", "污渍", "热水", "餐具", "杯子", "碗", "口红印",
        "没洗干净", "wifi", "堵了", "听不见", "蚊子", "电梯", "椅子", "大厅", "马桶", "桌上", "没擦", "闷",
        "不制冷", "尿骚", "骚味", "床垫", "腰疼", "走廊", "油烟", "窗户", "车声", "声音", "积水", "太软",
        "dirt", "filthy", "noise", "noisy", "loud", "toilet", "restroom", "bathroom", "washroom",
        "hygiene", "temperature", "air conditioning", "smell", "smelled", "lighting", "seat", "crowded",
        "parking", "environment", "cockroach", "mouse", "mice", "rat", "flies", "music", "sticky", "table",
        "soap", "room", "shower", "sink", "blocked", "clogged",
        # general vocabulary: the premises, the room and what is in it, tableware, air, noise, light
        "盘子", "筷子", "勺子", "桌布", "抽烟", "吸烟", "插座", "窗帘", "被子", "被褥", "床", "房间", "潮",
        "湿", "镜子", "淋浴", "水压", "水温", "暖气", "照明", "砸墙", "楼道", "车位", "营业厅", "信号", "网络",
        "网速", "墙", "地毯", "浴缸", "门锁", "干净", "台阶", "楼梯", "坡道", "昏暗", "潮湿", "闷热", "破旧",
        "简陋", "嘈杂", "刺鼻", "lift", "elevator", "pool", "gym", "floor",
        "wall", "heater", "lobby", "carpet", "mould", "mold", "mildew", "damp", "paper thin", "heating",
    ),
})

#: Safety: any of these makes the ticket urgent, whichever department gets it.
URGENT_KEYWORDS: tuple[str, ...] = (
    "中毒", "拉肚子", "腹泻", "呕吐", "过敏", "受伤", "流血", "摔倒", "烫伤", "割伤", "着火", "起火",
    "火灾", "冒烟", "触电", "打人", "报警",
    "food poisoning", "poison", "diarrhea", "diarrhoea", "vomit", "allergic reaction", "injury",
    "injure", "bleeding", "scald", "on fire", "caught fire", "fire alarm", "smoke",
    "electric shock", "assault", "threat", "police",
)

NEGATIONS_ZH: tuple[str, ...] = (
    "不", "没", "无", "未", "没有", "不太", "不是", "不是很", "不算", "不怎么", "不那么", "没那么",
    "不用", "无需", "不会", "不够", "不大", "毫无", "并不", "并没有", "没多",
)
#: Words that may stand between a negation and what it negates: 没有让人失望, 不是很满意, 一点也不脏,
#: 没有什么不满意, 不是特别好吃. Up to three of them, stripped from the end of the text before a keyword.
NEGATION_FILLERS_ZH: tuple[str, ...] = (
    "让人", "让我", "让我们", "令人", "使人", "叫人", "很", "太", "那么", "这么", "怎么", "特别", "非常",
    "十分", "太过", "是", "算", "够", "什么", "任何", "觉得", "感觉", "有", "我", "得", "等", "排",
    "一点", "一点儿", "一丝", "丝毫", "半点", "遇到", "碰到", "发现", "出现", "看到", "感到", "好",
)
