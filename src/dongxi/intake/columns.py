"""The data dictionary of the registry's import files, as code.

:data:`COLUMNS` holds for each kind (``households``, ``people``, ``income``, ``income_months``,
``measures``, ``partners``, ``helpers``) the ordered :class:`Column` specs: canonical name,
Chinese header, accepted header variants, type, whether required, and for enumerations the
code → label table
(``docs/data-dictionary.md`` describes the same). :mod:`dongxi.intake.headers` maps users' headers
and labels onto it; :mod:`dongxi.intake.validate` checks values against it.

:data:`TABLE_KINDS` describes each kind once for everything that stores, logs or exports it: the
name (the registry's table and the change log's entity), the natural key in the file and in the
registry, the row order, the columns, and :meth:`TableKind.key_text`, the change log's key of a
record. The enumerations' codes and labels come from :mod:`dongxi.vocab`.

Pure data and a few look-ups; no pandas, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from dongxi import vocab
from dongxi.errors import InputError

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "COLUMNS",
    "FILE_KINDS",
    "HOURS_PER_DAY",
    "KEY_SEPARATOR",
    "KINDS",
    "MARKET_KINDS",
    "REGISTRY_KINDS",
    "TABLE_KINDS",
    "Column",
    "ColumnType",
    "Kind",
    "LogGroup",
    "TableKind",
    "canonical_columns",
    "check_kind",
    "column_spec",
    "key_text",
    "zh_headers",
]

Kind = Literal[
    "households",
    "people",
    "income",
    "income_months",
    "measures",
    "partners",
    "helpers",
    "needs",
    "offers",
    "department_alerts",
]
#: The kinds kept in the registry's own tables (exported and snapshotted as they are).
REGISTRY_KINDS: tuple[Kind, ...] = (
    "households",
    "people",
    "income",
    "income_months",
    "measures",
    "partners",
    "helpers",
)
#: The kinds of the two-sided market: needs and offers, kept with their versions
#: (``market_needs``, ``market_offers``) through :mod:`dongxi.store.market_models`.
MARKET_KINDS: tuple[Kind, ...] = ("needs", "offers")
KINDS: tuple[Kind, ...] = REGISTRY_KINDS + MARKET_KINDS
#: The range of ``hours_per_day`` of needs and offers (hours a day, inclusive): the import's rule
#: and the registry's CHECK constraint (migration 0015).
HOURS_PER_DAY: tuple[float, float] = (0.5, 24.0)
#: Every kind of file the data dictionary describes: the importable kinds and the department
#: alerts (行业部门预警), which are checked like any file and open monitoring cases instead of
#: being stored as a table (``dongxi.services.cases.import_department_alerts``).
FILE_KINDS: tuple[Kind, ...] = (*KINDS, "department_alerts")
ColumnType = Literal["str", "int", "float", "bool", "date", "enum", "codes"]

#: Accepted spellings of booleans (compared after :func:`normalize_text` and lower-casing).
BOOL_TRUE = frozenset({"1", "是", "true", "t", "y", "yes", "有", "达标", "√", "1.0"})
BOOL_FALSE = frozenset({"0", "否", "false", "f", "n", "no", "无", "不达标", "×", "0.0"})


_NO_LABELS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Column:
    """One column of an import file.

    ``vocabulary`` is the enumeration of an ``enum`` or ``codes`` column (:mod:`dongxi.vocab`);
    ``aliases`` maps further accepted spellings to its codes. ``header_aliases`` are further
    accepted spellings of the header.
    """

    name: str
    zh: str
    type: ColumnType
    required: bool = False
    header_aliases: tuple[str, ...] = ()
    vocabulary: vocab.Vocabulary | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    open_domain: bool = False  # enumeration whose unknown values are kept as written

    @property
    def labels(self) -> Mapping[str, str]:
        """Code → Chinese label (the one export writes); empty for a column of free values."""
        return _NO_LABELS if self.vocabulary is None else self.vocabulary.zh


# --- accepted spellings of enumeration codes (the codes and labels are in dongxi.vocab) -------

_STATUS_ALIASES = {
    "贫困户": "registered_poor",
    "未脱贫户": "registered_poor",
    "未脱贫": "registered_poor",
    "建档立卡户": "registered_poor",
    "脱贫户": "escaped",
    "已脱贫": "escaped",
    "监测户": "monitored",
    "防返贫监测对象": "monitored",
    "非贫困户": "never",
}
_MONITORING_ALIASES = {"边缘户": "marginal", "突发困难户": "sudden_hardship"}
_CAUSE_ALIASES = {
    "缺劳动力": "lack_labour",
    "交通落后": "poor_transport",
    "缺乏发展动力": "lack_motivation",
    "自身发展动力不足": "lack_motivation",
}
_HOUSING_ALIASES = {"A级": "A", "B级": "B", "C级": "C", "D级": "D"}
_RELATION_ALIASES = {
    "本人": "head",
    "妻": "spouse",
    "夫": "spouse",
    "妻子": "spouse",
    "丈夫": "spouse",
    "子": "child",
    "女": "child",
    "之子": "child",
    "之女": "child",
    "儿子": "child",
    "女儿": "child",
    "儿媳": "child_in_law",
    "女婿": "child_in_law",
    "之儿媳": "child_in_law",
    "之女婿": "child_in_law",
    "孙子": "grandchild",
    "孙女": "grandchild",
    "之孙子": "grandchild",
    "之孙女": "grandchild",
    "外孙子": "grandchild",
    "外孙女": "grandchild",
    "父亲": "parent",
    "母亲": "parent",
    "之父": "parent",
    "之母": "parent",
    "祖父": "grandparent",
    "祖母": "grandparent",
    "兄弟": "sibling",
    "姐妹": "sibling",
    "兄": "sibling",
    "弟": "sibling",
    "姐": "sibling",
    "妹": "sibling",
    "其他亲属": "other",
}
_SEX_ALIASES = {"m": "male", "f": "female", "男性": "male", "女性": "female"}
_EDUCATION_ALIASES = {
    "文盲": "none",
    "半文盲": "none",
    "中专": "vocational",
    "中职": "vocational",
    "技校": "vocational",
    "大专": "college",
    "本科": "college",
    "本科及以上": "college",
    "学龄前儿童": "preschool",
}
_SCHOOL_ALIASES = {
    "在校生-小学": "primary",
    "小学在读": "primary",
    "初中在读": "junior",
    "高中在读": "senior",
    "中专": "vocational",
    "技校": "vocational",
    "大专": "college",
    "本科": "college",
    "失学辍学": "dropout",
}
_HEALTH_ALIASES = {"慢性病": "chronic", "大病": "serious", "重病": "serious"}
_LABOUR_ALIASES = {"弱劳动力": "weak", "半劳动力": "weak"}
_EMPLOYMENT_ALIASES = {"县外省内务工": "migrant_in", "自主创业": "self_employed"}
_BATCH_ALIASES = {"产业帮扶": "production", "教育帮扶": "education", "社会保障": "social_security"}
_SIDE_ALIASES = {"广东": "east", "广西": "west"}
_DEPARTMENT_ALIASES = {
    "医保局": "medical_insurance",
    "医疗保障局": "medical_insurance",
    "医保": "medical_insurance",
    "民政局": "civil_affairs",
    "民政": "civil_affairs",
    "教育局": "education",
    "教育": "education",
    "住建局": "housing",
    "住房和城乡建设局": "housing",
    "住建": "housing",
    "人社局": "human_resources",
    "人力资源和社会保障局": "human_resources",
    "人社": "human_resources",
    "应急管理局": "emergency_management",
    "应急": "emergency_management",
}
_NEED_KIND_ALIASES = {
    "务工": "employment",
    "就业需求": "employment",
    "转移就业": "employment",
    "培训": "training",
    "培训需求": "training",
    "创业": "business",
    "产业扶持": "business",
}
_OFFER_KIND_ALIASES = {
    "岗位": "job",
    "招聘岗位": "job",
    "培训": "training",
    "培训班": "training",
    "帮扶车间": "workshop",
    "扶贫车间": "workshop",
    "就业帮扶车间": "workshop",
    "车间岗位": "workshop",
}
_WILLINGNESS_ALIASES = {"有意愿": "willing", "视条件": "conditional", "无意愿": "unwilling"}


def _b(name: str, zh: str, *aliases: str, required: bool = True) -> Column:
    return Column(name, zh, "bool", required=required, header_aliases=aliases)


COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "households": (
        Column("household_code", "户编号", "str", True, ("户码", "户编码", "家庭编号", "户号")),
        Column(
            "village_code",
            "村代码",
            "str",
            True,
            ("村代码(行政区划代码)", "行政区划代码", "村行政区划代码", "村级代码", "村编码"),
        ),
        Column("county_code", "县代码", "str", False, ("县级代码", "县区划代码", "县编码")),
        Column(
            "status",
            "户类型",
            "enum",
            True,
            ("户属性", "贫困户属性", "户状态"),
            vocab.HOUSEHOLD_STATUSES,
            _STATUS_ALIASES,
        ),
        Column(
            "monitoring_category",
            "监测类型",
            "enum",
            False,
            ("监测对象类别", "监测对象类型"),
            vocab.MONITORING_CATEGORIES,
            _MONITORING_ALIASES,
        ),
        # not stored on the household: the date of its status history entry (import only)
        Column(
            "status_date",
            "状态变更日期",
            "date",
            False,
            ("状态日期", "户类型变更日期", "状态生效日期", "status date"),
        ),
        Column(
            "year_registered", "识别年度", "int", False, ("识别年份", "建档立卡年度", "纳入年度")
        ),
        Column("year_exited", "脱贫年度", "int", False, ("脱贫年份", "计划脱贫年度")),
        Column(
            "primary_cause",
            "主要致贫原因",
            "enum",
            False,
            ("主因",),
            vocab.CAUSES,
            _CAUSE_ALIASES,
        ),
        Column(
            "poverty_causes",
            "致贫原因",
            "codes",
            False,
            ("其他致贫原因", "次要致贫原因"),
            vocab.CAUSES,
            _CAUSE_ALIASES,
        ),
        Column(
            "housing_grade",
            "住房安全等级",
            "enum",
            True,
            ("住房安全鉴定等级", "房屋安全等级", "住房等级"),
            vocab.HOUSING_GRADES,
            _HOUSING_ALIASES,
        ),
        _b("water_quantity_ok", "饮水水量达标", "水量达标"),
        _b("water_quality_ok", "饮水水质达标", "水质达标"),
        _b("water_convenience_ok", "取水方便", "取水方便程度达标", "用水方便程度达标"),
        _b("water_guarantee_ok", "供水保证率达标", "供水保证率"),
        _b("road_access", "通硬化路", "是否通硬化路"),
        _b("electricity", "通生活用电", "是否通生活用电"),
        Column("helper_id", "帮扶责任人编号", "str", False, ("帮扶人编号", "帮扶责任人代码")),
        Column("latitude", "纬度", "float"),
        Column("longitude", "经度", "float"),
    ),
    "people": (
        Column("household_code", "户编号", "str", True, ("户码", "户编码", "家庭编号", "户号")),
        Column("member_no", "成员序号", "int", True, ("序号", "人员序号", "家庭成员序号")),
        Column(
            "id_number",
            "身份证号",
            "str",
            True,
            ("证件号码", "身份证号码", "公民身份号码", "身份证件号码"),
        ),
        Column("name", "姓名", "str", True, ("成员姓名",)),
        Column(
            "relation",
            "与户主关系",
            "enum",
            True,
            ("与户主的关系", "家庭关系"),
            vocab.RELATIONS,
            _RELATION_ALIASES,
        ),
        Column("sex", "性别", "enum", True, (), vocab.SEXES, _SEX_ALIASES),
        Column("birth_date", "出生日期", "date", True, ("出生年月日", "生日")),
        Column("ethnicity", "民族", "str", True),
        Column(
            "education",
            "文化程度",
            "enum",
            True,
            ("学历", "受教育程度"),
            vocab.EDUCATION,
            _EDUCATION_ALIASES,
        ),
        Column(
            "school_status",
            "在校生状况",
            "enum",
            True,
            ("在校生情况", "在校情况"),
            vocab.SCHOOL_STATUS,
            _SCHOOL_ALIASES,
        ),
        Column("health", "健康状况", "enum", True, ("健康情况",), vocab.HEALTH, _HEALTH_ALIASES),
        Column("disability_grade", "残疾等级", "int", False, ("残疾级别",)),
        _b("medical_insurance", "参加城乡居民基本医疗保险", "医疗保险", "是否参加医疗保险"),
        _b("pension_insurance", "参加城乡居民基本养老保险", "养老保险", "是否参加养老保险"),
        Column(
            "labour_capacity",
            "劳动技能",
            "enum",
            True,
            ("劳动能力",),
            vocab.LABOUR_CAPACITY,
            _LABOUR_ALIASES,
        ),
        Column(
            "employment",
            "务工状况",
            "enum",
            True,
            ("务工情况", "就业状况"),
            vocab.EMPLOYMENT,
            _EMPLOYMENT_ALIASES,
        ),
        Column("work_region_code", "务工地代码", "str", False, ("务工地区划代码",)),
        Column(
            "sector",
            "务工行业",
            "enum",
            False,
            ("行业",),
            vocab.SECTORS,
            open_domain=True,
        ),
        Column("monthly_wage", "月工资(元)", "float", False, ("月工资", "月收入(元)")),
        Column("months_worked", "务工时间(月)", "int", False, ("务工时间", "务工月数")),
        Column("skills", "技能", "str", False, ("技能情况", "掌握技能")),
    ),
    "income": (
        Column("household_code", "户编号", "str", True, ("户码", "户编码", "家庭编号", "户号")),
        Column("year", "年度", "int", True, ("年份", "收入年度")),
        Column("wage_income", "工资性收入", "float", True, ("工资性收入(元)",)),
        Column("operating_income", "生产经营性收入", "float", True, ("生产经营性收入(元)",)),
        Column("property_income", "财产性收入", "float", True, ("财产性收入(元)",)),
        Column("transfer_income", "转移性收入", "float", True, ("转移性收入(元)",)),
        Column("production_costs", "生产经营性支出", "float", True, ("生产经营性支出(元)",)),
        Column("household_size", "家庭人口", "int", True, ("家庭人口数", "人口数")),
        Column("net_income_per_capita", "人均纯收入", "float", False, ("人均纯收入(元)",)),
    ),
    # monthly income and rigid spending of a household (防返贫监测: income over 12 months)
    "income_months": (
        Column("household_code", "户编码", "str", True, ("户编号", "户码", "家庭编号", "户号")),
        Column("month", "月份", "str", True, ("收入月份", "年月", "统计月份")),
        Column(
            "net_income", "家庭纯收入", "float", True, ("家庭纯收入(元)", "月纯收入", "当月纯收入")
        ),
        Column("medical_spending", "医疗自付支出", "float", True, ("医疗自付支出(元)", "医疗支出")),
        Column("schooling_spending", "教育支出", "float", True, ("教育支出(元)",)),
        Column("disaster_loss", "灾害损失", "float", True, ("灾害损失(元)", "灾害意外损失")),
        Column("household_size", "家庭人口", "int", True, ("家庭人口数", "人口数")),
    ),
    "measures": (
        Column("measure_code", "措施编号", "str", True, ("项目编号",)),
        Column("household_code", "户编号", "str", False, ("户码", "户编码")),
        Column("region_code", "区划代码", "str", False, ("行政区划代码",)),
        Column("batch", "帮扶类型", "enum", True, ("帮扶措施类型",), vocab.BATCHES, _BATCH_ALIASES),
        Column("subtype", "具体措施", "str", True, ("措施",)),
        Column("helper_id", "帮扶责任人编号", "str", False, ("帮扶人编号",)),
        Column("partner_code", "东部帮扶单位编号", "str", False, ("帮扶单位编号",)),
        Column("funds", "资金(元)", "float", True, ("资金", "投入资金(元)")),
        Column("fund_source", "资金来源", "enum", True, (), vocab.FUND_SOURCES),
        Column("start_date", "开始日期", "date", False),
        Column("end_date", "结束日期", "date", False),
        Column("status", "状态", "enum", True, ("实施状态",), vocab.MEASURE_STATUSES),
        Column("outcome", "成效", "str", False),
    ),
    "partners": (
        Column("partner_code", "单位编号", "str", True, ("东部帮扶单位编号",)),
        Column("name", "单位名称", "str", True),
        Column("kind", "类型", "enum", True, ("单位类型",), vocab.PARTNER_KINDS),
        Column("region_code", "所在地代码", "str", True, ("所在地区划代码",)),
        Column("sector", "行业", "str", False),
        Column("contact", "联系人", "str", False),
    ),
    "helpers": (
        Column("helper_id", "帮扶责任人编号", "str", True, ("帮扶人编号",)),
        Column("name", "姓名", "str", True),
        Column("unit", "单位", "str", False, ("工作单位",)),
        Column("side", "东西部", "enum", True, ("所属",), vocab.SIDES, _SIDE_ALIASES),
        Column("region_code", "区划代码", "str", False, ("所在地代码",)),
    ),
    "department_alerts": (
        Column(
            "department",
            "部门",
            "enum",
            True,
            ("预警部门", "来源部门", "推送部门"),
            vocab.DEPARTMENTS,
            _DEPARTMENT_ALIASES,
        ),
        Column("household_code", "户编号", "str", False, ("户码", "户编码", "户号")),
        Column("id_number", "身份证号", "str", False, ("证件号码", "身份证号码", "公民身份号码")),
        Column("alert_date", "预警日期", "date", True, ("日期", "推送日期", "发生日期")),
        Column("alert_kind", "预警类型", "str", True, ("预警事项", "类型", "事项")),
        Column("amount", "金额(元)", "float", False, ("金额", "费用(元)", "自付费用(元)")),
        Column("details", "详情", "str", False, ("说明", "备注")),
    ),
    "needs": (
        Column("seeker_id", "人员编号", "str", True, ("求职者编号", "需求人编号", "劳动力编号")),
        Column("household_code", "户编号", "str", False, ("户码", "户编码", "户号")),
        Column("county_code", "县代码", "str", True, ("县级代码", "县区划代码", "县编码")),
        Column(
            "kind",
            "需求类型",
            "enum",
            False,
            ("需求类别",),
            vocab.NEED_KINDS,
            _NEED_KIND_ALIASES,
        ),
        Column(
            "status",
            "户类型",
            "enum",
            False,
            ("户属性", "贫困户属性"),
            vocab.HOUSEHOLD_STATUSES,
            _STATUS_ALIASES,
        ),
        Column("age", "年龄", "int", False),
        Column(
            "education",
            "文化程度",
            "enum",
            False,
            ("学历",),
            vocab.EDUCATION,
            _EDUCATION_ALIASES,
        ),
        Column(
            "labour_capacity",
            "劳动技能",
            "enum",
            False,
            ("劳动能力",),
            vocab.LABOUR_CAPACITY,
            _LABOUR_ALIASES,
        ),
        Column("skills", "技能", "str", False, ("掌握技能",)),
        Column("sectors", "意向行业", "str", False, ("希望从事行业",)),
        Column("places", "意向务工地代码", "str", False, ("意向务工地", "意向地区代码")),
        Column("min_wage", "期望月工资(元)", "float", False, ("最低月工资(元)", "期望月工资")),
        _b("needs_dormitory", "需要住宿", "是否需要住宿", required=False),
        Column(
            "willingness",
            "意愿",
            "enum",
            False,
            ("参与意愿",),
            vocab.WILLINGNESS,
            _WILLINGNESS_ALIASES,
        ),
        Column("stated_on", "登记日期", "date", False, ("填报日期",)),
        Column("details", "具体需求", "str", False, ("需求说明", "备注")),
        # the most hours a day the person can work or learn (a carer's limit); empty: no limit
        Column("hours_per_day", "每天最多可工作小时数", "float", False, ("每天可工作小时数",)),
    ),
    "offers": (
        Column("offer_id", "岗位编号", "str", True, ("供给编号", "名额编号")),
        Column(
            "kind",
            "供给类型",
            "enum",
            False,
            ("岗位类型",),
            vocab.OFFER_KINDS,
            _OFFER_KIND_ALIASES,
        ),
        Column("partner_code", "东部帮扶单位编号", "str", False, ("企业编号", "帮扶单位编号")),
        Column("place_code", "工作地代码", "str", True, ("地点代码", "工作地区划代码")),
        Column("sector", "行业", "str", False),
        Column("monthly_wage", "月工资(元)", "float", False, ("月工资",)),
        Column("subsidy", "补贴(元)", "float", False, ("补贴",)),
        Column("positions", "名额", "int", True, ("岗位数", "招聘人数", "人数")),
        Column("age_min", "最低年龄", "int", False, ("年龄下限",)),
        Column("age_max", "最高年龄", "int", False, ("年龄上限",)),
        Column(
            "min_education",
            "最低文化程度",
            "enum",
            False,
            ("学历要求",),
            vocab.EDUCATION,
            _EDUCATION_ALIASES,
        ),
        Column("skill_required", "技能要求", "str", False, ("所需技能",)),
        _b("physical", "体力劳动", "是否体力劳动", required=False),
        _b("dormitory", "提供住宿", "是否提供住宿", required=False),
        Column("living_cost", "生活费(元)", "float", False, ("月生活费(元)",)),
        Column("starts_on", "开始日期", "date", False),
        Column("ends_on", "结束日期", "date", False),
        Column("details", "说明", "str", False, ("备注",)),
        # the hours a day of the work or the course; empty: not stated
        Column("hours_per_day", "每天工作小时数", "float", False, ("每天工时", "每日工作小时数")),
    ),
}


#: Joins the values of a composite key in the change log (``H1|2019``).
KEY_SEPARATOR = "|"
#: The separator imports used to write (``H1/2019``); :meth:`TableKind.key_forms` finds both.
_LEGACY_KEY_SEPARATOR = "/"


def key_text(values: Sequence[Any]) -> str:
    """The change log's key of a record from its key values (``H1|2019``)."""
    return KEY_SEPARATOR.join(str(v) for v in values)


@dataclass(frozen=True)
class LogGroup:
    """Rows of a kind that the change log records together, one entry per group.

    A group is the rows whose key agrees but for its last column, cut to its first ``width``
    characters: for ``income_months`` (key household and month ``YYYY-MM``, ``width`` 4) a
    household's months of one year. The entry's key is the group's (``H1|2025``); its ``before``
    and ``after`` hold the other key columns, the cut value under ``name`` (``"year"``) and the
    group's rows under ``rows`` (``"months"``), by the last key column, each without its key
    columns: ``{"household_code": "H1", "year": "2025", "months": {"2025-01": {…}, …}}``.
    An update holds the changed months with their changed fields only.
    """

    width: int
    name: str
    rows: str


@dataclass(frozen=True)
class TableKind:
    """Everything about one kind of table that storing, logging and exporting it needs.

    ``name`` is the registry's table and the change log's entity. ``file_key`` is the natural key
    in an import file; ``key`` the registry's primary key and the change log's key (they differ
    for people: the ID number in the file, its keyed hash ``id_hash`` in the registry). ``order``
    is the order of exported and snapshotted rows. ``refers_to`` names the kinds whose key (one
    column, of the same name) the rows of this kind may hold. ``log_group``: the change log
    records the rows by groups (:class:`LogGroup`), not one entry a row.
    """

    name: Kind
    file_key: tuple[str, ...]
    key: tuple[str, ...]
    order: tuple[str, ...]
    columns: tuple[Column, ...]
    refers_to: tuple[Kind, ...] = ()
    log_group: LogGroup | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Canonical name → Chinese header (what export writes)."""
        return {c.name: c.zh for c in self.columns}

    def key_text(self, record: Mapping[str, Any]) -> str:
        """The change log's key of one record (a mapping holding at least :attr:`key`)."""
        return key_text([record[k] for k in self.key])

    def key_texts(self, columns: Mapping[str, Sequence[Any]]) -> list[str]:
        """The change log's keys of records given column by column."""
        parts = [columns[k] for k in self.key]
        if len(parts) == 1:
            return [str(v) for v in parts[0]]
        return [key_text(t) for t in zip(*parts, strict=True)]

    def key_forms(self, text: str) -> tuple[str, ...]:
        """Every form under which the change log may hold the record whose key is ``text``.

        Imports before the single description logged composite keys joined by ``/``
        (``H1/2019``), the repository by ``|``; both forms are returned for either spelling (the
        ``/`` form is split at its last separators, so only the first key column may hold one).
        For a kind logged by groups (:attr:`log_group`) the group's key comes last (``H1|2025``
        for ``H1|2025-03``).
        """
        if len(self.key) == 1:
            return (text,)
        values = self._key_values(text)
        current = key_text(values)
        legacy = _LEGACY_KEY_SEPARATOR.join(values)
        forms = (current, legacy) if legacy != current else (current,)
        group = self.group_form(text)
        return forms if group is None else (*forms, group)

    def _key_values(self, text: str) -> list[str]:
        n = len(self.key) - 1
        if text.count(KEY_SEPARATOR) >= n:
            return text.rsplit(KEY_SEPARATOR, n)
        return text.rsplit(_LEGACY_KEY_SEPARATOR, n)

    def group_form(self, text: str) -> str | None:
        """The change log's key of the group (:attr:`log_group`) of the row whose key is
        ``text`` (``H1|2025`` for ``H1|2025-03``); ``None`` when the kind is logged row by row
        or ``text`` is a group's key already."""
        group = self.log_group
        if group is None or len(self.key) == 1:
            return None
        values = self._key_values(text)
        if len(values) < len(self.key) or len(values[-1]) <= group.width:
            return None
        return key_text([*values[:-1], values[-1][: group.width]])

    def group_key_text(self, record: Mapping[str, Any]) -> str:
        """The change log's key of the group (:attr:`log_group`) a record belongs to
        (``H1|2025`` for the month ``H1|2025-03``)."""
        group = self.log_group
        if group is None:
            raise ValueError(f"{self.name} is logged row by row")
        *first, last = (record[k] for k in self.key)
        return key_text([*first, str(last)[: group.width]])


def _kind(
    name: Kind,
    file_key: tuple[str, ...],
    *,
    key: tuple[str, ...] = (),
    order: tuple[str, ...] = (),
    refers_to: tuple[Kind, ...] = (),
    log_group: LogGroup | None = None,
) -> TableKind:
    key = key or file_key
    return TableKind(name, file_key, key, order or key, COLUMNS[name], refers_to, log_group)


#: The description of each kind of table.
TABLE_KINDS: dict[Kind, TableKind] = {
    "households": _kind("households", ("household_code",), refers_to=("helpers",)),
    "people": _kind(
        "people",
        ("id_number",),
        key=("id_hash",),
        order=("household_code", "member_no"),
        refers_to=("households",),
    ),
    "income": _kind("income", ("household_code", "year"), refers_to=("households",)),
    # a household's months of one year are one change-log entry (docs/registry.md)
    "income_months": _kind(
        "income_months",
        ("household_code", "month"),
        refers_to=("households",),
        log_group=LogGroup(width=4, name="year", rows="months"),
    ),
    "measures": _kind(
        "measures", ("measure_code",), refers_to=("households", "helpers", "partners")
    ),
    "partners": _kind("partners", ("partner_code",)),
    "helpers": _kind("helpers", ("helper_id",)),
    "department_alerts": _kind(
        "department_alerts",
        ("department", "household_code", "id_number", "alert_date", "alert_kind"),
        refers_to=("households",),
    ),
    "needs": _kind("needs", ("seeker_id", "kind")),
    "offers": _kind("offers", ("offer_id",)),
}


def column_spec(kind: Kind, name: str) -> Column:
    """The :class:`Column` named ``name`` of ``kind``."""
    for col in COLUMNS[check_kind(kind)]:
        if col.name == name:
            return col
    raise InputError(f"The {kind} table has no column '{name}'.", value=name)


def canonical_columns(kind: Kind) -> list[str]:
    """Canonical column names of ``kind`` in the data dictionary's order."""
    return [c.name for c in COLUMNS[check_kind(kind)]]


def zh_headers(kind: Kind) -> dict[str, str]:
    """Canonical name → Chinese header of ``kind`` (what export writes)."""
    return TABLE_KINDS[check_kind(kind)].headers


def check_kind(kind: str) -> Kind:
    if kind not in FILE_KINDS:
        raise InputError(
            f"Unknown kind of import '{kind}'.",
            value=kind,
            rule="kind",
            fix=f"Use one of: {', '.join(KINDS)}.",
        )
    return kind
