//! The distributions of the generator: charges with their case frequency, co-defendants, outcome
//! and sentence profile. Every number here is an assumption documented in `docs/synthetic-data.md`;
//! they were tuned so that the shipped policies cover what the report says (see the calibration test).

/// Sentence bands a profile gives weights to, lightest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    Exempt,
    FineOnly,
    Surveillance,
    Detention,
    /// 有期徒刑 6–12 months.
    Ft6To12,
    /// 有期徒刑 13–36 months.
    Ft13To36,
    Ft37To60,
    Ft61To120,
    Ft121To180,
    Life,
}

pub const BANDS: [Band; 10] = [
    Band::Exempt,
    Band::FineOnly,
    Band::Surveillance,
    Band::Detention,
    Band::Ft6To12,
    Band::Ft13To36,
    Band::Ft37To60,
    Band::Ft61To120,
    Band::Ft121To180,
    Band::Life,
];

/// One charge of the generator's table.
#[derive(Debug, Clone, Copy)]
pub struct ChargeRow {
    /// Catalogue name.
    pub name: &'static str,
    /// Relative frequency of cases whose main charge this is (per mille of all cases, roughly).
    pub case_weight: u32,
    /// Mean number of defendants per case, in hundredths (100 = always one).
    pub defendants: u32,
    /// Share of cases ending in a conviction, per mille (the rest: non-prosecution, withdrawal, acquittal).
    pub convicted: u32,
    /// Share of records whose person has an earlier conviction, per mille.
    pub repeat: u32,
    /// Weights over `BANDS`, in tenths of a percent.
    pub profile: [u32; 10],
    /// Age 14–15 can be criminally responsible for it (Criminal Law art. 17(2)).
    pub from_fourteen: bool,
}

const fn row(
    name: &'static str,
    case_weight: u32,
    defendants: u32,
    convicted: u32,
    repeat: u32,
    profile: [u32; 10],
) -> ChargeRow {
    ChargeRow {
        name,
        case_weight,
        defendants,
        convicted,
        repeat,
        profile,
        from_fourteen: false,
    }
}

const fn serious(mut r: ChargeRow) -> ChargeRow {
    r.from_fourteen = true;
    r
}

/// The head of the distribution: the charges that make most cases. The tail (`TAIL_WEIGHT`) is
/// drawn uniformly from the rest of the catalogue's current charges.
pub const CHARGES: &[ChargeRow] = &[
    row(
        "危险驾驶罪",
        224,
        100,
        860,
        50,
        [20, 12, 0, 968, 0, 0, 0, 0, 0, 0],
    ),
    row(
        "盗窃罪",
        150,
        162,
        850,
        240,
        [2, 40, 3, 45, 655, 150, 60, 40, 5, 0],
    ),
    row(
        "帮助信息网络犯罪活动罪",
        85,
        225,
        800,
        30,
        [3, 40, 3, 35, 780, 139, 0, 0, 0, 0],
    ),
    row(
        "诈骗罪",
        75,
        225,
        850,
        100,
        [1, 3, 0, 6, 500, 200, 140, 120, 27, 3],
    ),
    serious(row(
        "故意伤害罪",
        55,
        188,
        800,
        100,
        [2, 0, 5, 12, 610, 200, 80, 60, 21, 10],
    )),
    serious(row(
        "走私、贩卖、运输、制造毒品罪",
        30,
        162,
        950,
        300,
        [0, 0, 0, 30, 300, 250, 150, 170, 70, 30],
    )),
    row(
        "寻衅滋事罪",
        28,
        250,
        850,
        200,
        [1, 0, 2, 12, 650, 263, 55, 17, 0, 0],
    ),
    row(
        "开设赌场罪",
        22,
        300,
        850,
        100,
        [2, 5, 0, 6, 600, 267, 90, 30, 0, 0],
    ),
    row(
        "交通肇事罪",
        88,
        100,
        850,
        20,
        [10, 0, 0, 12, 413, 500, 45, 20, 0, 0],
    ),
    row(
        "掩饰、隐瞒犯罪所得、犯罪所得收益罪",
        22,
        225,
        850,
        50,
        [2, 30, 3, 12, 733, 195, 20, 5, 0, 0],
    ),
    row(
        "妨害信用卡管理罪",
        10,
        162,
        850,
        50,
        [2, 10, 0, 12, 643, 235, 70, 28, 0, 0],
    ),
    row(
        "信用卡诈骗罪",
        10,
        125,
        850,
        100,
        [2, 10, 0, 12, 643, 235, 70, 28, 0, 0],
    ),
    row(
        "聚众斗殴罪",
        6,
        375,
        850,
        150,
        [0, 0, 2, 6, 560, 284, 100, 48, 0, 0],
    ),
    row(
        "非法吸收公众存款罪",
        6,
        312,
        850,
        50,
        [5, 10, 0, 6, 454, 280, 120, 125, 0, 0],
    ),
    row(
        "组织、领导、参加黑社会性质组织罪",
        1,
        750,
        950,
        300,
        [0, 0, 0, 0, 100, 250, 250, 250, 120, 30],
    ),
    row(
        "容留他人吸毒罪",
        8,
        100,
        900,
        400,
        [0, 0, 0, 200, 600, 180, 20, 0, 0, 0],
    ),
    row(
        "非法持有毒品罪",
        6,
        100,
        900,
        350,
        [0, 0, 0, 150, 550, 250, 50, 0, 0, 0],
    ),
    serious(row(
        "强奸罪",
        9,
        138,
        900,
        100,
        [0, 0, 0, 0, 20, 150, 350, 400, 80, 0],
    )),
    row(
        "强制猥亵、侮辱罪",
        5,
        125,
        850,
        100,
        [0, 0, 0, 30, 300, 350, 200, 120, 0, 0],
    ),
    row(
        "猥亵儿童罪",
        4,
        100,
        900,
        100,
        [0, 0, 0, 20, 250, 350, 250, 130, 0, 0],
    ),
    row(
        "受贿罪",
        6,
        100,
        980,
        10,
        [5, 0, 0, 0, 50, 300, 250, 250, 120, 25],
    ),
    row(
        "贪污罪",
        3,
        100,
        980,
        10,
        [5, 0, 0, 0, 80, 350, 250, 220, 80, 15],
    ),
    serious(row(
        "故意杀人罪",
        5,
        162,
        950,
        100,
        [0, 0, 0, 0, 0, 50, 100, 250, 400, 200],
    )),
    serious(row(
        "抢劫罪",
        13,
        225,
        900,
        300,
        [0, 0, 0, 5, 40, 140, 420, 300, 85, 10],
    )),
    row(
        "绑架罪",
        1,
        250,
        950,
        100,
        [0, 0, 0, 0, 0, 50, 100, 400, 350, 100],
    ),
    serious(row(
        "放火罪",
        2,
        100,
        900,
        100,
        [0, 0, 0, 0, 50, 300, 400, 200, 50, 0],
    )),
    row(
        "失火罪",
        3,
        100,
        850,
        10,
        [20, 0, 0, 30, 600, 320, 30, 0, 0, 0],
    ),
    row(
        "过失致人死亡罪",
        2,
        100,
        850,
        10,
        [20, 0, 0, 12, 491, 427, 50, 0, 0, 0],
    ),
    row(
        "重大责任事故罪",
        4,
        188,
        850,
        10,
        [20, 0, 0, 18, 533, 399, 30, 0, 0, 0],
    ),
    row(
        "非法经营罪",
        8,
        225,
        850,
        80,
        [3, 30, 0, 6, 538, 266, 100, 57, 0, 0],
    ),
    row(
        "合同诈骗罪",
        6,
        162,
        850,
        80,
        [0, 5, 0, 3, 377, 245, 180, 150, 40, 0],
    ),
    row(
        "敲诈勒索罪",
        6,
        188,
        850,
        150,
        [0, 5, 0, 12, 589, 259, 90, 45, 0, 0],
    ),
    row(
        "职务侵占罪",
        6,
        150,
        850,
        50,
        [5, 5, 0, 6, 500, 294, 140, 50, 0, 0],
    ),
    row(
        "侵犯公民个人信息罪",
        8,
        250,
        850,
        50,
        [2, 30, 0, 12, 704, 224, 20, 8, 0, 0],
    ),
    row(
        "非法捕捞水产品罪",
        6,
        188,
        800,
        50,
        [10, 70, 0, 48, 767, 105, 0, 0, 0, 0],
    ),
    row(
        "污染环境罪",
        5,
        250,
        850,
        50,
        [5, 15, 0, 12, 632, 266, 70, 0, 0, 0],
    ),
    row(
        "妨害公务罪",
        6,
        100,
        850,
        150,
        [3, 0, 5, 48, 757, 175, 12, 0, 0, 0],
    ),
    row(
        "袭警罪",
        5,
        100,
        850,
        150,
        [3, 0, 5, 48, 757, 175, 12, 0, 0, 0],
    ),
    row(
        "赌博罪",
        4,
        250,
        800,
        100,
        [5, 60, 0, 36, 776, 113, 10, 0, 0, 0],
    ),
    row(
        "组织卖淫罪",
        3,
        312,
        900,
        100,
        [0, 0, 0, 0, 140, 210, 300, 300, 50, 0],
    ),
    row(
        "虚开发票罪",
        5,
        188,
        850,
        50,
        [5, 15, 0, 6, 574, 280, 95, 25, 0, 0],
    ),
    row(
        "抢夺罪",
        2,
        150,
        850,
        250,
        [0, 5, 0, 18, 658, 224, 70, 25, 0, 0],
    ),
    row(
        "伪造、变造、买卖国家机关公文、证件、印章罪",
        3,
        162,
        850,
        50,
        [5, 15, 5, 30, 690, 210, 45, 0, 0, 0],
    ),
    row(
        "非法狩猎罪",
        3,
        188,
        800,
        50,
        [20, 70, 0, 48, 764, 98, 0, 0, 0, 0],
    ),
    row(
        "滥伐林木罪",
        3,
        150,
        800,
        30,
        [20, 50, 0, 24, 741, 165, 0, 0, 0, 0],
    ),
    row(
        "拒不执行判决、裁定罪",
        4,
        100,
        800,
        50,
        [20, 15, 0, 48, 763, 154, 0, 0, 0, 0],
    ),
    row(
        "非法采矿罪",
        3,
        225,
        850,
        50,
        [5, 40, 0, 18, 647, 235, 55, 0, 0, 0],
    ),
    row(
        "生产、销售有毒、有害食品罪",
        4,
        188,
        850,
        50,
        [5, 15, 0, 24, 665, 226, 65, 0, 0, 0],
    ),
    row(
        "走私普通货物、物品罪",
        3,
        250,
        850,
        50,
        [5, 10, 0, 6, 409, 245, 170, 155, 0, 0],
    ),
    row(
        "非法制造、买卖、运输、邮寄、储存枪支、弹药、爆炸物罪",
        3,
        125,
        850,
        50,
        [0, 0, 0, 12, 372, 266, 250, 100, 0, 0],
    ),
];

/// Weight of the tail, on the scale of `case_weight`.
pub const TAIL_WEIGHT: u32 = 20;
/// Profile of a tail charge.
pub const TAIL_PROFILE: [u32; 10] = [3, 20, 3, 40, 420, 320, 120, 64, 10, 0];
pub const TAIL_DEFENDANTS: u32 = 130;
pub const TAIL_CONVICTED: u32 = 850;
pub const TAIL_REPEAT: u32 = 80;

/// Second charges of a combined sentence (数罪并罚), none of them excluded by any preset.
pub const SECOND_CHARGES: &[&str] = &[
    "盗窃罪",
    "诈骗罪",
    "寻衅滋事罪",
    "妨害公务罪",
    "掩饰、隐瞒犯罪所得、犯罪所得收益罪",
    "故意毁坏财物罪",
];
/// Share of convictions for two charges, per mille.
pub const COMBINED_PER_MILLE: u32 = 40;

/// Administrative regions (county level) where cases are filed and identity numbers registered.
pub const REGIONS: &[(&str, &str)] = &[
    ("110105", "北京市朝阳区"),
    ("110108", "北京市海淀区"),
    ("120104", "天津市南开区"),
    ("130102", "石家庄市长安区"),
    ("140105", "太原市小店区"),
    ("150102", "呼和浩特市新城区"),
    ("210102", "沈阳市和平区"),
    ("220102", "长春市南关区"),
    ("230103", "哈尔滨市南岗区"),
    ("310104", "上海市徐汇区"),
    ("310115", "上海市浦东新区"),
    ("320102", "南京市玄武区"),
    ("320506", "苏州市吴中区"),
    ("330106", "杭州市西湖区"),
    ("340104", "合肥市蜀山区"),
    ("350102", "福州市鼓楼区"),
    ("360102", "南昌市东湖区"),
    ("370102", "济南市历下区"),
    ("370212", "青岛市崂山区"),
    ("410105", "郑州市金水区"),
    ("420106", "武汉市武昌区"),
    ("430104", "长沙市岳麓区"),
    ("440106", "广州市天河区"),
    ("440304", "深圳市福田区"),
    ("441900", "东莞市"),
    ("450103", "南宁市青秀区"),
    ("460105", "海口市秀英区"),
    ("500103", "重庆市渝中区"),
    ("510107", "成都市武侯区"),
    ("520102", "贵阳市南明区"),
    ("530102", "昆明市五华区"),
    ("540102", "拉萨市城关区"),
    ("610113", "西安市雁塔区"),
    ("620102", "兰州市城关区"),
    ("630102", "西宁市城东区"),
    ("640104", "银川市兴庆区"),
    ("650102", "乌鲁木齐市天山区"),
];

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈",
];

pub const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "霞", "平", "刚", "桂英", "建华", "建国", "志强", "海燕", "晓东", "文博", "子涵",
    "浩然", "宇轩", "欣怡", "俊杰", "鹏", "辉", "斌", "丹", "玲", "波", "宁", "凯", "健",
];

/// One behaviour of the catalogue of violations (data/violations.tsv) the generator draws.
#[derive(Debug, Clone, Copy)]
pub struct ViolationRow {
    /// Catalogue name.
    pub name: &'static str,
    /// Relative frequency of cases (per mille of violation cases, roughly).
    pub case_weight: u32,
    /// Mean number of people per case, in hundredths (100 = always one).
    pub people: u32,
    /// Share of penalties with administrative detention where the article allows detention and
    /// another kind, per mille.
    pub detention: u32,
}

const fn violation(
    name: &'static str,
    case_weight: u32,
    people: u32,
    detention: u32,
) -> ViolationRow {
    ViolationRow {
        name,
        case_weight,
        people,
        detention,
    }
}

/// Violation cases by behaviour. Assumptions (docs/synthetic-data.md, "Violation records"):
/// 殴打他人 about a third of cases (the MPS's 2024 summer campaign: 45.3万 beating cases beside
/// 142.6万 public-security cases), then petty theft, gambling, drug use, prostitution and damage
/// to property; the revocation of a licence issued by public security is rare (unlicensed or
/// unlawful operation of a trade public security licenses); the rest of the catalogue shares the
/// tail uniformly.
pub const VIOLATIONS: &[ViolationRow] = &[
    violation("殴打他人", 300, 140, 450),
    violation("盗窃", 127, 105, 550),
    violation("赌博", 100, 250, 300),
    violation("吸毒", 60, 100, 900),
    violation("故意损毁财物", 45, 110, 350),
    violation("嫖娼", 40, 100, 600),
    violation("卖淫", 20, 100, 700),
    violation("寻衅滋事", 30, 180, 700),
    violation("诈骗", 25, 110, 600),
    violation("扰乱公共场所秩序", 25, 120, 300),
    violation("扰乱单位秩序", 20, 120, 300),
    violation("阻碍执行职务", 20, 100, 600),
    violation("威胁人身安全", 15, 100, 400),
    violation("发送信息干扰正常生活", 12, 100, 300),
    violation("侮辱", 12, 100, 300),
    violation("非法侵入住宅", 8, 120, 400),
    violation("故意伤害", 10, 120, 500),
    violation("非法携带枪支、弹药、管制器具", 12, 100, 300),
    violation("为赌博提供条件", 10, 120, 500),
    violation("引诱、容留、介绍卖淫", 6, 110, 800),
    violation("传播淫秽信息", 6, 100, 400),
    violation("猥亵", 6, 100, 1000),
    violation("散布谣言扰乱公共秩序", 8, 100, 300),
    violation("谎报险情、疫情、警情", 6, 100, 300),
    violation("敲诈勒索", 6, 110, 600),
    violation("招摇撞骗", 4, 100, 500),
    violation("偷开他人机动车", 4, 100, 500),
    violation("制造噪声干扰他人正常生活", 10, 100, 0),
    violation("饲养动物干扰他人正常生活", 6, 100, 0),
    violation("旅馆业工作人员不按规定登记住宿旅客信息", 8, 100, 50),
    violation("房屋出租人不按规定登记承租人信息", 10, 100, 50),
    violation("擅自进入铁路防护网", 3, 100, 0),
    violation("偷越国（边）境", 3, 110, 600),
    violation("违法经营需公安机关许可的行业", 3, 100, 0),
];

/// Weight of the tail of violations (every other behaviour of the catalogue, uniformly).
pub const VIOLATION_TAIL_WEIGHT: u32 = 20;
/// Share of detention in the tail's penalties, per mille.
pub const VIOLATION_TAIL_DETENTION: u32 = 400;

/// The row of a tail behaviour.
pub const fn violation_tail(detention: u32) -> ViolationRow {
    violation("", VIOLATION_TAIL_WEIGHT, 100, detention)
}
