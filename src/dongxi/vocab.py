"""The registry's vocabularies: every enumeration of the data dictionary, once.

Each enumeration is a :class:`Vocabulary`, an ordered mapping code → :class:`Label` (Chinese label,
the one offices write and export shows; English label for reports). Everything else derives from
these: the registry's CHECK constraints (:mod:`dongxi.store.models`), the import columns and their
labels (:mod:`dongxi.intake.columns`), synthetic data (:mod:`dongxi.synth`) and reports. Pure data
with no dependencies.

The order of each vocabulary is fixed: ``synth`` codes values by their position in
:attr:`Vocabulary.codes`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "AUDIT_FINDINGS",
    "BATCHES",
    "CASE_PROCEDURES",
    "CAUSES",
    "DEPARTMENTS",
    "DISCOVERY_CHANNELS",
    "EDUCATION",
    "EMPLOYMENT",
    "EXIT_OUTCOMES",
    "FUND_SOURCES",
    "HEALTH",
    "HELP_KINDS",
    "HOUSEHOLD_STATUSES",
    "HOUSING_GRADES",
    "INCOME_POVERTY_GROUPS",
    "LABOUR_CAPACITY",
    "MEASURE_STATUSES",
    "MONITORING_CATEGORIES",
    "MONITOR_OUTCOMES",
    "NEED_KINDS",
    "NOTICE_KINDS",
    "NOTICE_STATES",
    "OBJECTION_STATES",
    "OFFER_KINDS",
    "PAIRING_LEVELS",
    "PARTNER_KINDS",
    "POLICY_STATUSES",
    "PROPOSAL_STATES",
    "REGION_LEVELS",
    "RELATIONS",
    "SCHOOL_STATUS",
    "SECTORS",
    "SEXES",
    "SHOCK_KINDS",
    "SIDES",
    "USER_ROLES",
    "WILLINGNESS",
    "Label",
    "Vocabulary",
]


class Label(NamedTuple):
    """The labels of one code: Chinese (what offices write) and English."""

    zh: str
    en: str


class Vocabulary(Mapping[str, Label]):
    """An enumeration: its codes in a fixed order, each with its :class:`Label`.

    Iterating gives the codes in order; ``vocabulary[code]`` the labels.
    """

    __slots__ = ("_labels", "codes", "en", "name", "zh")

    def __init__(self, name: str, labels: Mapping[str, tuple[str, str]]) -> None:
        self.name = name
        self._labels = {code: Label(*pair) for code, pair in labels.items()}
        #: The codes in their fixed order.
        self.codes: tuple[str, ...] = tuple(self._labels)
        #: Code → Chinese label.
        self.zh: Mapping[str, str] = MappingProxyType({c: lb.zh for c, lb in self._labels.items()})
        #: Code → English label.
        self.en: Mapping[str, str] = MappingProxyType({c: lb.en for c, lb in self._labels.items()})

    def __getitem__(self, code: str) -> Label:
        return self._labels[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return f"Vocabulary({self.name!r}, {', '.join(self.codes)})"


REGION_LEVELS = Vocabulary(
    "region level",
    {
        "province": ("省级", "province"),
        "prefecture": ("地级", "prefecture"),
        "county": ("县级", "county"),
        "township": ("乡级", "township"),
        "village": ("村级", "village"),
    },
)
SIDES = Vocabulary("side", {"east": ("东部", "east"), "west": ("西部", "west")})
PAIRING_LEVELS = Vocabulary(
    "pairing level",
    {
        "province": ("省际", "province"),
        "city": ("市际", "city"),
        "county": ("县际", "county"),
        "township": ("乡镇", "township"),
        "village": ("村", "village"),
        "unit": ("单位", "unit"),
    },
)
HOUSEHOLD_STATUSES = Vocabulary(
    "household status",
    {
        "registered_poor": ("建档立卡贫困户", "registered poor (not yet exited)"),
        "escaped": ("已脱贫户", "exited poverty"),
        "monitored": ("监测对象", "monitored"),
        "never": ("一般农户", "never poor"),
    },
)
INCOME_POVERTY_GROUPS = Vocabulary(
    "income against the official poverty line",
    {
        "below_line": ("人均纯收入低于贫困线", "per-capita net income below the poverty line"),
        "at_or_above_line": ("达到或高于贫困线", "at or above the poverty line"),
        "no_income": ("无当年收入记录", "no income record for the year"),
    },
)
MONITORING_CATEGORIES = Vocabulary(
    "monitoring category",
    {
        "unstable_escaped": ("脱贫不稳定户", "unstable exited"),
        "marginal": ("边缘易致贫户", "marginal, at risk"),
        "sudden_hardship": ("突发严重困难户", "sudden severe hardship"),
    },
)
CAUSES = Vocabulary(
    "cause of poverty",
    {
        "illness": ("因病", "illness"),
        "disability": ("因残", "disability"),
        "education": ("因学", "education costs"),
        "disaster": ("因灾", "disaster"),
        "lack_land": ("缺土地", "lack of land"),
        "lack_water": ("缺水", "lack of water"),
        "lack_skills": ("缺技术", "lack of skills"),
        "lack_labour": ("缺劳力", "lack of labour"),
        "lack_funds": ("缺资金", "lack of funds"),
        "poor_transport": ("交通条件落后", "poor transport"),
        "lack_motivation": ("自身发展动力不足", "lack of motivation"),
        "other": ("其他", "other"),
    },
)
HOUSING_GRADES = Vocabulary(
    "housing grade",
    {
        "A": ("A", "A (safe)"),
        "B": ("B", "B (safe)"),
        "C": ("C", "C (unsafe)"),
        "D": ("D", "D (unsafe)"),
    },
)
RELATIONS = Vocabulary(
    "relation to the head",
    {
        "head": ("户主", "head"),
        "spouse": ("配偶", "spouse"),
        "child": ("子女", "child"),
        "child_in_law": ("儿媳/女婿", "child-in-law"),
        "grandchild": ("孙子女", "grandchild"),
        "parent": ("父母", "parent"),
        "grandparent": ("祖父母", "grandparent"),
        "sibling": ("兄弟姐妹", "sibling"),
        "other": ("其他", "other"),
    },
)
SEXES = Vocabulary("sex", {"male": ("男", "male"), "female": ("女", "female")})
EDUCATION = Vocabulary(
    "education",
    {
        "none": ("文盲或半文盲", "illiterate or semi-literate"),
        "primary": ("小学", "primary"),
        "junior": ("初中", "junior secondary"),
        "senior": ("高中", "senior secondary"),
        "vocational": ("中专/中职/技校", "vocational secondary"),
        "college": ("大专及以上", "college or higher"),
        "preschool": ("学龄前", "preschool age"),
    },
)
SCHOOL_STATUS = Vocabulary(
    "school status",
    {
        "not_in_school": ("非在校生", "not in school"),
        "preschool": ("学前教育", "preschool"),
        "primary": ("小学", "primary"),
        "junior": ("初中", "junior secondary"),
        "senior": ("高中", "senior secondary"),
        "vocational": ("中职", "vocational secondary"),
        "college": ("高职高专及以上", "college or higher"),
        "dropout": ("辍学", "dropped out"),
    },
)
HEALTH = Vocabulary(
    "health",
    {
        "healthy": ("健康", "healthy"),
        "chronic": ("长期慢性病", "chronic illness"),
        "serious": ("患有大病", "serious illness"),
        "disabled": ("残疾", "disabled"),
    },
)
LABOUR_CAPACITY = Vocabulary(
    "labour capacity",
    {
        "skilled": ("技能劳动力", "skilled labour"),
        "normal": ("普通劳动力", "ordinary labour"),
        "weak": ("弱劳动力或半劳动力", "weak or half labour"),
        "lost": ("丧失劳动力", "lost capacity"),
        "none": ("无劳动力", "no labour capacity"),
    },
)
EMPLOYMENT = Vocabulary(
    "employment",
    {
        "migrant_out": ("省外务工", "migrant outside the province"),
        "migrant_in": ("省内县外务工", "migrant within the province"),
        "local": ("县内务工", "working in the county"),
        "farming": ("务农", "farming"),
        "self_employed": ("自主经营", "self-employed"),
        "unemployed": ("未就业", "unemployed"),
        "not_applicable": ("不适用", "not applicable"),
    },
)
#: Sectors of work (an open enumeration: import keeps unknown sectors as written).
SECTORS = Vocabulary(
    "sector",
    {
        "manufacturing": ("制造业", "manufacturing"),
        "construction": ("建筑业", "construction"),
        "services": ("服务业", "services"),
        "agriculture": ("农业", "agriculture"),
        "other": ("其他", "other"),
    },
)
BATCHES = Vocabulary(
    "kind of assistance",
    {
        "production": ("发展生产", "production"),
        "relocation": ("易地搬迁", "relocation"),
        "ecological": ("生态补偿", "ecological compensation"),
        "education": ("发展教育", "education"),
        "social_security": ("社会保障兜底", "social security"),
        "employment": ("就业帮扶", "employment"),
        "health": ("健康帮扶", "health"),
        "housing": ("危房改造", "housing renovation"),
        "consumption": ("消费帮扶", "consumption"),
    },
)
FUND_SOURCES = Vocabulary(
    "fund source",
    {
        "east_fiscal": ("东部财政", "eastern fiscal funds"),
        "east_social": ("东部社会", "eastern social funds"),
        "west_fiscal": ("西部财政", "western fiscal funds"),
        "west_social": ("西部社会", "western social funds"),
        "credit": ("信贷", "credit"),
        "other": ("其他", "other"),
    },
)
MEASURE_STATUSES = Vocabulary(
    "measure status",
    {
        "planned": ("计划", "planned"),
        "in_progress": ("实施中", "in progress"),
        "completed": ("已完成", "completed"),
        "cancelled": ("已取消", "cancelled"),
    },
)
PARTNER_KINDS = Vocabulary(
    "partner kind",
    {
        "enterprise": ("企业", "enterprise"),
        "organisation": ("社会组织", "social organisation"),
        "government": ("党政机关", "government office"),
        "school": ("学校", "school"),
        "hospital": ("医院", "hospital"),
    },
)
POLICY_STATUSES = Vocabulary(
    "policy value status",
    {
        "verified": ("已核实", "verified"),
        "approximate": ("近似", "approximate"),
        "unverified": ("未核实", "unverified"),
        "example": ("示例", "example"),
    },
)
#: Kinds of shock that hit a household (the synthetic panel's ground truth, ``dongxi.synth``).
SHOCK_KINDS = Vocabulary(
    "shock kind",
    {
        "illness": ("因病", "serious illness"),
        "disability": ("因残", "disability"),
        "disaster": ("因灾", "natural disaster"),
        "job_loss": ("务工失业", "job loss of a migrant worker"),
        "schooling": ("因学", "schooling costs"),
        "house_damage": ("房屋受损", "house damaged"),
    },
)
#: Kinds of need a person or household states (the two-sided market, ``market_needs``).
NEED_KINDS = Vocabulary(
    "need kind",
    {
        "employment": ("就业（外出务工）", "employment"),
        "training": ("技能培训", "training"),
        "business": ("创业或产业扶持", "business support"),
        "schooling": ("上学", "schooling"),
        "medical": ("医疗", "medical care"),
        "housing": ("住房", "housing"),
        "relocation": ("易地搬迁", "relocation"),
    },
)
#: Kinds of offer an eastern partner posts (``market_offers``).
OFFER_KINDS = Vocabulary(
    "offer kind",
    {
        "job": ("招聘岗位", "job post"),
        "training": ("培训名额", "training seats"),
        "workshop": ("扶贫车间岗位", "workshop places"),
        "project": ("产业项目", "project"),
        "purchase": ("消费帮扶采购", "purchase commitment"),
        "expert_visit": ("专家服务", "expert visit"),
    },
)
#: How willing a person is to take up what they asked for.
WILLINGNESS = Vocabulary(
    "willingness",
    {
        "willing": ("愿意", "willing"),
        "conditional": ("有条件愿意", "willing on conditions"),
        "unwilling": ("不愿意", "unwilling"),
    },
)
#: States of a matching proposal (the moves between them: ``dongxi.market.TRANSITIONS``).
PROPOSAL_STATES = Vocabulary(
    "proposal state",
    {
        "proposed": ("待答复", "proposed"),
        "accepted": ("本人已接受", "accepted by the seeker"),
        "declined_by_seeker": ("本人已谢绝", "declined by the seeker"),
        "expired": ("已过期", "expired"),
        "superseded": ("已被新一轮取代", "superseded"),
        "confirmed": ("企业已确认", "confirmed by the partner"),
        "declined_by_partner": ("企业已谢绝", "declined by the partner"),
        "hired": ("已录用", "hired"),
        "not_hired": ("未录用", "not hired"),
    },
)
#: Roles of the service's users (what each may do: ``dongxi.services.principal.PERMISSIONS``).
NEED_KINDS = Vocabulary(
    "kind of need",
    {
        "employment": ("就业", "employment"),
        "training": ("技能培训", "training"),
        "business": ("创业扶持", "business support"),
        "schooling": ("上学", "schooling"),
        "medical": ("医疗", "medical care"),
        "housing": ("住房", "housing"),
        "relocation": ("搬迁", "relocation"),
    },
)
OFFER_KINDS = Vocabulary(
    "kind of offer",
    {
        "job": ("就业岗位", "job post"),
        "training": ("培训名额", "training seats"),
        "workshop": ("帮扶车间岗位", "workshop places"),
        "project": ("项目", "project"),
        "purchase": ("消费帮扶", "purchase commitment"),
        "expert_visit": ("专家服务", "expert visit"),
    },
)
WILLINGNESS = Vocabulary(
    "willingness",
    {
        "willing": ("愿意", "willing"),
        "conditional": ("有条件愿意", "willing on conditions"),
        "unwilling": ("不愿意", "unwilling"),
    },
)
USER_ROLES = Vocabulary(
    "user role",
    {
        "admin": ("系统管理员", "administrator"),
        "village_officer": ("村级干部", "village officer"),
        "township_officer": ("乡镇干部", "township officer"),
        "county_officer": ("县级干部", "county officer"),
        "city_officer": ("市级干部", "city officer"),
        "province_officer": ("省级干部", "province officer"),
        "east_partner": ("东部帮扶企业/单位", "east partner"),
        "east_office": ("东部协作办", "east collaboration office"),
        "analyst": ("分析人员", "analyst"),
        "auditor": ("审计人员", "auditor"),
    },
)
#: The procedures a monitoring case follows (states, steps and deadlines:
#: ``dongxi/monitor/data/procedures.toml``).
CASE_PROCEDURES = Vocabulary(
    "case procedure",
    {
        "identification": ("监测对象识别纳入", "identification (entering monitoring)"),
        "risk_removal": ("风险消除", "risk removal (leaving monitoring)"),
        "exit": ("脱贫退出", "exit from poverty"),
    },
)
#: How a household at risk was found (防返贫动态监测的发现渠道).
DISCOVERY_CHANNELS = Vocabulary(
    "discovery channel",
    {
        "self_declaration": ("农户自主申报", "self-declaration"),
        "cadre_sweep": ("干部排查", "cadre sweep"),
        "department_alert": ("部门筛查预警", "department alert"),
        "risk_score": ("风险评分", "risk score"),
    },
)
#: Departments that send alerts (行业部门数据比对预警).
DEPARTMENTS = Vocabulary(
    "department",
    {
        "medical_insurance": ("医保部门", "medical insurance"),
        "civil_affairs": ("民政部门", "civil affairs"),
        "education": ("教育部门", "education"),
        "housing": ("住建部门", "housing"),
        "human_resources": ("人社部门", "human resources"),
        "emergency_management": ("应急管理部门", "emergency management"),
    },
)
#: What a public notice (公示/公告) publishes.
NOTICE_KINDS = Vocabulary(
    "notice kind",
    {
        "identification": ("贫困户识别", "identification"),
        "exit": ("脱贫退出", "exit from poverty"),
        "monitoring_entry": ("纳入监测对象", "entering monitoring"),
        "monitoring_exit": ("风险消除（退出监测）", "leaving monitoring"),
    },
)
NOTICE_STATES = Vocabulary(
    "notice state", {"open": ("公示中", "open"), "closed": ("已结束", "closed")}
)
OBJECTION_STATES = Vocabulary(
    "objection state", {"open": ("待处理", "open"), "resolved": ("已处理", "resolved")}
)
#: What a monitoring rule decided for a household (``dongxi.monitor`` sweep).
MONITOR_OUTCOMES = Vocabulary(
    "monitoring decision",
    {
        "include": ("纳入监测", "include in monitoring"),
        "exclude": ("不纳入监测", "do not include"),
        "undecided": ("无法判断", "cannot decide"),
    },
)
#: Whether a monitored household's risk may be marked removed (风险消除, ``dongxi.monitor``).
EXIT_OUTCOMES = Vocabulary(
    "risk removal decision",
    {
        "exit": ("可标注风险消除", "risk may be marked removed"),
        "stay": ("继续监测帮扶", "stays in monitoring"),
        "undecided": ("无法判断", "cannot decide"),
    },
)
#: The kind of help the monitoring rules suggest for a household.
HELP_KINDS = Vocabulary(
    "kind of help",
    {
        "development": (
            "开发式帮扶（就业、技能培训、产业）",
            "development (jobs, training, industry)",
        ),
        "safety_net": ("兜底保障（低保、特困供养）", "safety net (低保, 特困 support)"),
    },
)
#: What an inspection of the monitoring finds (``dongxi.monitor`` audits).
AUDIT_FINDINGS = Vocabulary(
    "monitoring audit finding",
    {
        "missed": ("应纳未纳", "should be monitored but is not"),
        "unidentified_measure": (
            "体外循环：未识别户有帮扶措施",
            "outside the system: measure for a household never identified",
        ),
        "unstable_exit": (
            "体外循环：未满稳定期即消除风险",
            "outside the system: risk removed without the stability period",
        ),
        "no_measure": ("体外循环：监测户无帮扶措施", "outside the system: monitored, no measure"),
    },
)
