"""Static reference data the generator draws from.

Everything here is plain data: cities with their county codes, names, vehicle models,
employers, number ranges. Keeping it apart from the generating code means the rules
("a Beijing applicant has a 010 employer landline") read as code, and the lists can
grow without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class County:
    """A county-level division whose code can start a resident ID number.

    ``valid_from`` is the first birth year for which python-stdnum accepts the code:
    its table records when each code was created, and it rejects an ID whose birth
    year predates the code. Codes with 1955 have existed throughout.
    """

    code: str
    name: str
    valid_from: int


@dataclass(frozen=True)
class City:
    name: str
    province: str
    landline_prefix: str
    landline_digits: int
    counties: tuple[County, ...]
    weight: float


def _c(code: str, name: str, valid_from: int = 1955) -> County:
    return County(code, name, valid_from)


# The tables below are laid out by hand, several entries a line.
# fmt: off
CITIES: tuple[City, ...] = (
    City("北京", "北京市", "010", 8, (
        _c("110101", "东城区"), _c("110102", "西城区"), _c("110105", "朝阳区"),
        _c("110106", "丰台区"), _c("110108", "海淀区"), _c("110114", "昌平区", 1999),
    ), 9.0),
    City("上海", "上海市", "021", 8, (
        _c("310101", "黄浦区"), _c("310104", "徐汇区"), _c("310105", "长宁区"),
        _c("310107", "普陀区"), _c("310110", "杨浦区"), _c("310112", "闵行区", 1981),
        _c("310115", "浦东新区", 1992),
    ), 9.0),
    City("天津", "天津市", "022", 8, (
        _c("120101", "和平区"), _c("120102", "河东区"), _c("120103", "河西区"),
        _c("120104", "南开区"),
    ), 4.0),
    City("重庆", "重庆市", "023", 8, (
        _c("500103", "渝中区", 1997), _c("500106", "沙坪坝区", 1997),
        _c("500107", "九龙坡区", 1997), _c("500108", "南岸区", 1997),
    ), 6.0),
    City("广州", "广东省", "020", 8, (
        _c("440103", "荔湾区", 1983), _c("440104", "越秀区", 1983),
        _c("440105", "海珠区", 1983), _c("440106", "天河区", 1985),
        _c("440113", "番禺区", 2000),
    ), 7.0),
    City("深圳", "广东省", "0755", 8, (
        _c("440303", "罗湖区", 1983), _c("440304", "福田区", 1983),
        _c("440305", "南山区", 1983), _c("440306", "宝安区", 1992),
        _c("440307", "龙岗区", 1992),
    ), 7.0),
    City("东莞", "广东省", "0769", 8, (_c("441900", "东莞市", 1988),), 3.0),
    City("杭州", "浙江省", "0571", 8, (
        _c("330102", "上城区", 1983), _c("330105", "拱墅区", 1983),
        _c("330106", "西湖区", 1983), _c("330108", "滨江区", 1996),
        _c("330122", "桐庐县"),
    ), 5.0),
    City("宁波", "浙江省", "0574", 8, (
        _c("330203", "海曙区", 1983), _c("330205", "江北区", 1983),
        _c("330282", "慈溪市", 1989),
    ), 2.5),
    City("温州", "浙江省", "0577", 8, (
        _c("330302", "鹿城区", 1983), _c("330303", "龙湾区", 1984),
        _c("330304", "瓯海区", 1992),
    ), 2.0),
    City("南京", "江苏省", "025", 8, (
        _c("320102", "玄武区", 1983), _c("320104", "秦淮区", 1983),
        _c("320105", "建邺区", 1983), _c("320106", "鼓楼区", 1983),
        _c("320115", "江宁区", 2000),
    ), 4.0),
    City("苏州", "江苏省", "0512", 8, (
        _c("320505", "虎丘区", 2000), _c("320506", "吴中区", 2000),
        _c("320583", "昆山市", 1989),
    ), 4.0),
    City("成都", "四川省", "028", 8, (
        _c("510104", "锦江区", 1990), _c("510105", "青羊区", 1990),
        _c("510107", "武侯区", 1990), _c("510108", "成华区", 1990),
        _c("510112", "龙泉驿区", 1983), _c("510121", "金堂县"),
    ), 6.0),
    City("武汉", "湖北省", "027", 8, (
        _c("420102", "江岸区", 1983), _c("420103", "江汉区", 1983),
        _c("420106", "武昌区", 1983), _c("420111", "洪山区", 1983),
    ), 5.0),
    City("长沙", "湖南省", "0731", 8, (
        _c("430102", "芙蓉区", 1983), _c("430103", "天心区", 1983),
        _c("430104", "岳麓区", 1983), _c("430105", "开福区", 1983),
        _c("430121", "长沙县"),
    ), 4.0),
    City("西安", "陕西省", "029", 8, (
        _c("610102", "新城区", 1983), _c("610103", "碑林区", 1983),
        _c("610104", "莲湖区", 1983), _c("610113", "雁塔区", 1983),
    ), 4.0),
    City("郑州", "河南省", "0371", 8, (
        _c("410102", "中原区", 1983), _c("410103", "二七区", 1983),
        _c("410105", "金水区", 1983),
    ), 4.0),
    City("济南", "山东省", "0531", 8, (
        _c("370102", "历下区", 1983), _c("370103", "市中区", 1983),
        _c("370104", "槐荫区", 1983),
    ), 3.0),
    City("青岛", "山东省", "0532", 8, (
        _c("370202", "市南区", 1983), _c("370203", "市北区", 1983),
        _c("370212", "崂山区", 1988),
    ), 3.0),
    City("厦门", "福建省", "0592", 7, (
        _c("350203", "思明区", 1983), _c("350206", "湖里区", 1987),
        _c("350212", "同安区", 1996),
    ), 2.0),
    City("福州", "福建省", "0591", 8, (
        _c("350102", "鼓楼区", 1983), _c("350103", "台江区", 1983),
        _c("350121", "闽侯县"),
    ), 2.5),
    City("合肥", "安徽省", "0551", 8, (
        _c("340102", "瑶海区", 1983), _c("340103", "庐阳区", 1983),
        _c("340104", "蜀山区", 1983), _c("340121", "长丰县"),
    ), 3.0),
    City("南昌", "江西省", "0791", 8, (
        _c("360102", "东湖区", 1983), _c("360103", "西湖区", 1983),
        _c("360121", "南昌县"),
    ), 2.0),
    City("沈阳", "辽宁省", "024", 8, (
        _c("210102", "和平区", 1983), _c("210103", "沈河区", 1983),
        _c("210106", "铁西区", 1983),
    ), 3.0),
    City("大连", "辽宁省", "0411", 8, (
        _c("210202", "中山区", 1983), _c("210203", "西岗区", 1983),
        _c("210204", "沙河口区", 1983), _c("210224", "长海县"),
    ), 2.0),
    City("长春", "吉林省", "0431", 8, (
        _c("220102", "南关区", 1983), _c("220103", "宽城区", 1983),
        _c("220104", "朝阳区", 1983),
    ), 2.0),
    City("哈尔滨", "黑龙江省", "0451", 8, (
        _c("230102", "道里区", 1983), _c("230103", "南岗区", 1983),
        _c("230104", "道外区", 1983),
    ), 2.0),
    City("昆明", "云南省", "0871", 8, (
        _c("530102", "五华区", 1983), _c("530103", "盘龙区", 1983),
        _c("530111", "官渡区", 1983), _c("530124", "富民县"),
    ), 2.5),
    City("贵阳", "贵州省", "0851", 8, (
        _c("520102", "南明区", 1983), _c("520103", "云岩区", 1983),
    ), 1.5),
    City("南宁", "广西壮族自治区", "0771", 7, (
        _c("450102", "兴宁区", 1983), _c("450105", "江南区", 1983),
    ), 1.5),
    City("石家庄", "河北省", "0311", 8, (
        _c("130102", "长安区", 1983), _c("130104", "桥西区", 1983),
        _c("130105", "新华区", 1983),
    ), 2.5),
    City("太原", "山西省", "0351", 7, (
        _c("140105", "小店区", 1997), _c("140106", "迎泽区", 1997),
        _c("140121", "清徐县"),
    ), 1.5),
    City("兰州", "甘肃省", "0931", 7, (
        _c("620102", "城关区", 1983), _c("620103", "七里河区", 1983),
        _c("620121", "永登县"),
    ), 1.0),
)

# Surnames with rough relative frequencies (the top of the national list dominates).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.3),
    ("赵", 2.2), ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.4), ("朱", 1.3),
    ("胡", 1.3), ("郭", 1.2), ("何", 1.2), ("高", 1.1), ("林", 1.1), ("罗", 1.0), ("郑", 1.0),
    ("梁", 0.9), ("谢", 0.8), ("宋", 0.8), ("唐", 0.8), ("许", 0.7), ("韩", 0.7), ("冯", 0.7),
    ("邓", 0.7), ("曹", 0.7), ("彭", 0.6), ("曾", 0.6), ("肖", 0.6), ("田", 0.6), ("董", 0.5),
    ("袁", 0.5), ("潘", 0.5), ("于", 0.5), ("蒋", 0.5), ("蔡", 0.5), ("余", 0.5), ("杜", 0.5),
    ("叶", 0.5), ("程", 0.5), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.4), ("崔", 0.3), ("钟", 0.3), ("谭", 0.3),
    ("陆", 0.3), ("汪", 0.3), ("范", 0.3), ("金", 0.3), ("石", 0.3), ("廖", 0.3), ("贾", 0.3),
    ("夏", 0.3), ("韦", 0.3), ("付", 0.3), ("方", 0.3), ("白", 0.3), ("邹", 0.3), ("孟", 0.3),
    ("熊", 0.3), ("秦", 0.3), ("邱", 0.3), ("江", 0.3), ("尹", 0.3), ("薛", 0.2), ("闫", 0.2),
    ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("龙", 0.2), ("史", 0.2), ("陶", 0.2), ("黎", 0.2),
    ("贺", 0.2), ("顾", 0.2), ("毛", 0.2), ("郝", 0.2), ("龚", 0.2), ("邵", 0.2), ("万", 0.2),
    ("钱", 0.2), ("严", 0.2), ("覃", 0.2), ("武", 0.2), ("戴", 0.2), ("莫", 0.2), ("孔", 0.2),
    ("欧阳", 0.05), ("司马", 0.02), ("上官", 0.02), ("诸葛", 0.02),
)

GIVEN_MALE: str = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋阳东亮成建国峰志文博"
GIVEN_FEMALE: str = "芳娜敏静丽艳娟霞燕玲婷雪慧莹晶颖倩琳欣怡佳梅红英兰洁琴云莉萍丹璐悦"

STREETS: tuple[str, ...] = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路", "长江路",
    "黄河路", "青年路", "幸福路", "朝阳路", "东风路", "滨江路", "科技路", "学府路", "金融街",
    "光明路", "振兴路", "团结路", "友谊路", "花园路", "公园路", "工业路", "迎宾大道", "世纪大道",
    "发展大道", "环城路", "北京路", "南京路", "上海路", "广州路", "延安路", "红旗路", "复兴路",
)
COMPOUNDS: tuple[str, ...] = (
    "阳光花园", "锦绣家园", "万科城", "碧桂园", "恒大绿洲", "保利花园", "华润城", "龙湖天街",
    "绿地国际", "金地格林", "世纪花园", "翠苑小区", "幸福里", "和谐家园", "滨江花园", "香榭丽舍",
    "中海国际", "融创府", "东方明珠苑", "富力城", "星河湾", "御景湾", "紫荆园", "丽景苑",
    "新城花园", "湖畔名邸", "金色家园", "书香门第", "春天花园", "学府小区",
)

# Mainland mobile prefixes that phonenumbers accepts in full (every 8-digit suffix).
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "193", "195",
    "196", "198", "199", "145", "147",
)
# Virtual-operator (MVNO) prefixes: cheap anonymous SIMs, over-represented in rings.
VIRTUAL_PREFIXES: tuple[str, ...] = ("162", "165", "167", "170", "171")

# Debit-card BINs of large Chinese banks with their card lengths.
BANK_BINS: tuple[tuple[str, int], ...] = (
    ("622202", 19), ("621226", 19), ("622848", 19), ("621700", 19), ("622700", 19),
    ("601382", 19), ("622262", 19), ("622588", 16), ("621483", 16), ("623058", 19),
    ("622908", 18), ("622609", 16), ("621661", 19), ("622630", 19), ("621799", 19),
)

# First octets of Chinese residential broadband ranges (home and office lines).
RESIDENTIAL_OCTETS: tuple[int, ...] = (
    36, 42, 49, 58, 59, 61, 101, 106, 110, 111, 114, 115, 116, 119, 120, 121, 122,
    123, 124, 125, 180, 182, 202, 210, 211, 218, 219, 220, 221, 222,
)
# First octets for dealers' fixed business lines (their showroom Wi-Fi).
BUSINESS_OCTETS: tuple[int, ...] = (14, 27, 60, 113, 171, 183)
# Carrier-grade NAT gateways of the mobile operators: a handful of public addresses
# behind which thousands of unrelated phones appear.
CARRIER_NAT_PREFIXES: tuple[str, ...] = (
    "117.136.", "223.104.", "112.97.", "39.144.", "120.229.", "111.55.", "223.73.",
)
# Mobile IPv6 prefixes (China Mobile, Unicom, Telecom).
IPV6_PREFIXES: tuple[str, ...] = ("2409:8a", "2409:89", "2408:84", "240e:3b", "240e:47")


@dataclass(frozen=True)
class GiantEmployer:
    """A national employer with one switchboard that thousands of staff type in."""

    name: str
    switchboard: str
    weight: float
    # Couriers, riders, factory and site workers often live in company dormitories.
    dormitories: bool = False


GIANT_EMPLOYERS: tuple[GiantEmployer, ...] = (
    GiantEmployer("国家电网有限公司", "010-63416475", 3.0),
    GiantEmployer("京东集团股份有限公司", "010-89118888", 2.5, dormitories=True),
    GiantEmployer("中国移动通信集团有限公司", "010-52686688", 2.5),
    GiantEmployer("北京三快在线科技有限公司", "010-53376541", 3.5, dormitories=True),  # Meituan
    GiantEmployer("顺丰速运有限责任公司", "0755-83395888", 3.0, dormitories=True),
    GiantEmployer("中国石油化工股份有限公司", "010-59960114", 1.5),
    GiantEmployer("中国平安保险(集团)股份有限公司", "0755-22621888", 1.5),
    GiantEmployer("比亚迪股份有限公司", "0755-89888888", 2.0, dormitories=True),
    GiantEmployer("华为技术有限公司", "0755-28780808", 1.5),
    GiantEmployer("中国建筑集团有限公司", "010-86498888", 1.5, dormitories=True),
    GiantEmployer("阿里巴巴(中国)有限公司", "0571-85022088", 1.5),
    GiantEmployer("中国邮政集团有限公司", "010-68858888", 1.5, dormitories=True),
)
# Short names applicants type instead of the registered one.
GIANT_ALIASES: dict[str, tuple[str, ...]] = {
    "京东集团股份有限公司": ("京东集团", "京东"),
    "北京三快在线科技有限公司": ("美团", "美团外卖"),
    "中国移动通信集团有限公司": ("中国移动",),
    "国家电网有限公司": ("国家电网",),
    "中国平安保险(集团)股份有限公司": ("平安集团",),
}

# Pieces of small and mid-size company names: 字号 + 行业 + 组织形式.
COMPANY_WORDS: str = (
    "鑫华宏泰盛达恒通瑞祥兴隆嘉和信诚金鼎博远天成永安安顺海纳汇丰中科新源德润"
    "创新锦程昌盛宏图启明卓越凯旋星辰正大福满荣达广通长虹东方联合伟业明珠"
)
INDUSTRIES: tuple[str, ...] = (
    "信息技术", "网络科技", "电子", "建筑工程", "装饰工程", "物流", "货运", "贸易", "商贸",
    "餐饮管理", "物业管理", "机械制造", "服装", "食品", "医药", "教育咨询", "广告传媒",
    "房地产经纪", "汽车维修", "家具", "建材", "环保科技", "劳务派遣", "酒店管理", "文化传播",
)
LOGISTICS_INDUSTRIES: tuple[str, ...] = ("物流", "货运", "运输", "冷链物流", "供应链管理")


@dataclass(frozen=True)
class VehicleModel:
    """A model with the price it usually sells for new, in CNY."""

    name: str
    brand: str
    usual_price: int
    wmi: str
    commercial: bool = False


VEHICLE_MODELS: tuple[VehicleModel, ...] = (
    VehicleModel("大众朗逸", "大众", 120_000, "LSV"),
    VehicleModel("大众帕萨特", "大众", 200_000, "LSV"),
    VehicleModel("大众速腾", "大众", 150_000, "LFV"),
    VehicleModel("丰田凯美瑞", "丰田", 190_000, "LVG"),
    VehicleModel("丰田卡罗拉", "丰田", 120_000, "LFM"),
    VehicleModel("本田雅阁", "本田", 180_000, "LHG"),
    VehicleModel("本田CR-V", "本田", 190_000, "LVH"),
    VehicleModel("日产轩逸", "日产", 110_000, "LGB"),
    VehicleModel("比亚迪秦PLUS", "比亚迪", 110_000, "LGX"),
    VehicleModel("比亚迪汉", "比亚迪", 220_000, "LGX"),
    VehicleModel("比亚迪宋PLUS", "比亚迪", 170_000, "LC0"),
    VehicleModel("特斯拉Model 3", "特斯拉", 250_000, "LRW"),
    VehicleModel("特斯拉Model Y", "特斯拉", 280_000, "LRW"),
    VehicleModel("理想L7", "理想", 320_000, "LW4"),
    VehicleModel("蔚来ES6", "蔚来", 350_000, "LJ1"),
    VehicleModel("小鹏P7", "小鹏", 230_000, "L1N"),
    VehicleModel("吉利星越L", "吉利", 150_000, "LB3"),
    VehicleModel("长安CS75 PLUS", "长安", 120_000, "LS5"),
    VehicleModel("哈弗H6", "哈弗", 120_000, "LGW"),
    VehicleModel("别克GL8", "别克", 280_000, "LSG"),
    VehicleModel("奔驰C级", "奔驰", 330_000, "LE4"),
    VehicleModel("宝马3系", "宝马", 300_000, "LBV"),
    VehicleModel("奥迪A4L", "奥迪", 320_000, "LFV"),
    VehicleModel("凯迪拉克CT5", "凯迪拉克", 280_000, "LSG"),
    VehicleModel("五菱宏光", "五菱", 55_000, "LZW"),
    VehicleModel("五菱宏光MINI EV", "五菱", 40_000, "LZW"),
    VehicleModel("红旗H5", "红旗", 170_000, "LFP"),
    VehicleModel("荣威RX5", "荣威", 110_000, "LSJ"),
    VehicleModel("名爵MG5", "名爵", 75_000, "LSJ"),
    VehicleModel("问界M7", "问界", 280_000, "LM8"),
    VehicleModel("零跑C11", "零跑", 170_000, "LFZ"),
    VehicleModel("福田欧马可", "福田", 130_000, "LVB", commercial=True),
    VehicleModel("江淮帅铃", "江淮", 120_000, "LJ1", commercial=True),
    VehicleModel("解放J6P", "解放", 400_000, "LFW", commercial=True),
    VehicleModel("东风天龙", "东风", 380_000, "LGA", commercial=True),
    VehicleModel("重汽豪沃", "重汽", 350_000, "LZZ", commercial=True),
    VehicleModel("五菱荣光小卡", "五菱", 60_000, "LZW", commercial=True),
    VehicleModel("长城炮", "长城", 130_000, "LGW", commercial=True),
    VehicleModel("上汽大通V80", "上汽大通", 160_000, "LSK", commercial=True),
    VehicleModel("江铃全顺", "江铃", 180_000, "LJX", commercial=True),
)

# Dealer name templates by dealer kind; {city} and {word} are filled in.
DEALER_NAME_TEMPLATES: dict[str, tuple[str, ...]] = {
    "4s": ("{city}{word}{brand}4S店有限公司", "{city}{word}{brand}汽车销售服务有限公司"),
    "used": ("{city}{word}二手车经纪有限公司", "{city}{word}汽贸有限公司"),
    "commercial": ("{city}{word}商用车销售有限公司", "{city}{word}重卡销售服务有限公司"),
}
# fmt: on
