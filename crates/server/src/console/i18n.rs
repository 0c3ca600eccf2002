//! The console's words: Simplified Chinese, with an English switch. The language is chosen once per
//! request (from the `fengcun_lang` cookie) and carried in the page's context, so templates ask
//! `ctx.t(key)` and never branch on the language themselves.

use crate::config::Role;
use crate::service::ServiceError;

pub const LANG_COOKIE: &str = "fengcun_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The text of `key`; a key without a text shows itself (a test finds every key used).
    pub fn t(self, key: &str) -> &'static str {
        match all_texts().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => match self {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "console text missing");
                "?"
            }
        }
    }

    /// A day: `2026年12月5日`, or `5 December 2026`.
    pub fn date(self, date: fengcun_domain::Date) -> String {
        match self {
            Lang::Zh => fengcun_domain::date::chinese_date(date),
            Lang::En => {
                const MONTHS: [&str; 12] = [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ];
                let month = MONTHS
                    .get(usize::try_from(date.month() - 1).unwrap_or(0))
                    .copied()
                    .unwrap_or("?");
                format!("{} {month} {}", date.day(), date.year())
            }
        }
    }

    /// A stored timestamp (RFC 3339) as a day and a time in China: `2026年12月5日 10:30`. Text
    /// that is no timestamp is shown as it is.
    pub fn time(self, text: &str) -> String {
        let Ok(timestamp) = text.parse::<jiff::Timestamp>() else {
            return text.to_owned();
        };
        let zoned = timestamp.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)));
        format!(
            "{} {:02}:{:02}",
            self.date(zoned.date()),
            zoned.hour(),
            zoned.minute()
        )
    }

    pub fn role(self, role: &str) -> &'static str {
        match Role::parse(role) {
            Some(role) => self.t(&format!("role.{}", role.code())),
            None => "?",
        }
    }

    /// A requester kind, a purpose, a request's status: `{group}.{code}`, or the code itself
    /// when there is no text for it.
    pub fn code_text(self, group: &str, code: &str) -> String {
        let key = format!("{group}.{code}");
        if all_texts().any(|(k, _, _)| *k == key) {
            self.t(&key).to_owned()
        } else {
            code.to_owned()
        }
    }

    /// A service's refusal or validation error in this language, naming the field it is about
    /// (`用户名：…`). The service's messages begin with the field (`username: …`).
    pub fn error(self, error: &ServiceError) -> String {
        match error {
            ServiceError::Unauthenticated => self.t("error.unauthenticated").to_owned(),
            ServiceError::Refused(reason) => {
                let reason = reason.to_string();
                match field_of(&reason) {
                    Some((field, detail)) => self.field_error(field, detail),
                    None => format!("{}（{reason}）", self.t("error.refused")),
                }
            }
            ServiceError::Throttled(seconds) => {
                format!(
                    "{}{seconds}{}",
                    self.t("error.throttled"),
                    self.t("error.seconds")
                )
            }
            ServiceError::Conflict(message) | ServiceError::Invalid(message) => {
                match field_of(message) {
                    Some((field, detail)) => self.field_error(field, detail),
                    None => format!("{}（{message}）", self.t("error.invalid")),
                }
            }
            ServiceError::NotFound => self.t("error.not_found").to_owned(),
            ServiceError::Store(fengcun_store::StoreError::Invalid { .. }) => {
                self.t("error.invalid").to_owned()
            }
            ServiceError::Store(_) => self.t("error.internal").to_owned(),
        }
    }

    /// `「字段」：说明`, with the service's own words kept after it for the precise rule — in
    /// Chinese where they are one of the common rules (a length, a check character), else as the
    /// service wrote them.
    fn field_error(self, field: &str, detail: &str) -> String {
        let label = self.code_text("field", field);
        let detail = detail.trim();
        let rule = self.code_text("rule", field);
        // A field's rule says what it usually asks (a name's length): a control character in it
        // is none of that, and is said alone.
        let rule = if rule == field || detail.starts_with(CONTROL_CHARACTER) {
            String::new()
        } else {
            rule
        };
        match (self, rule.is_empty()) {
            (Lang::Zh, empty) => {
                let (detail, known) = match detail_in_chinese(detail) {
                    Some(chinese) => (chinese, true),
                    None => (detail.to_owned(), false),
                };
                match (empty, known) {
                    (true, true) => format!("「{label}」有误：{detail}"),
                    // The service's own words, as the technical detail.
                    (true, false) => format!("「{label}」有误（{detail}）"),
                    // The rule says it all (至少12个字符, twice, said nothing more).
                    (false, true) if detail == rule => format!("「{label}」有误：{rule}"),
                    (false, _) => format!("「{label}」有误：{rule}（{detail}）"),
                }
            }
            (Lang::En, true) => format!("{label}: {detail}"),
            (Lang::En, false) => format!("{label}: {rule} ({detail})"),
        }
    }
}

/// How the service's limits (`limits::check`) begin their refusal of a control or formatting
/// character.
const CONTROL_CHARACTER: &str = "holds the control or formatting character";

/// The service's words for the commonest rules, in Chinese: a length (`4 to 1000 characters, has
/// 0`, `at least 12 characters`), an identity number's length or check character, a whole number.
/// `None` for anything else, which is shown as written.
fn detail_in_chinese(detail: &str) -> Option<String> {
    let number = |text: &str| text.trim().parse::<u64>().ok();
    if let Some(count) = detail.strip_prefix("must have 18 characters, has ") {
        return Some(format!("应为18位，现为{}位", number(count)?));
    }
    if let Some((range, count)) = detail
        .strip_suffix(|c: char| c.is_ascii_digit())
        .and_then(|_| detail.split_once(" characters, has "))
    {
        let (min, max) = range.split_once(" to ")?;
        let (min, max, count) = (number(min)?, number(max)?, number(count)?);
        return Some(format!("应为{min}至{max}个字符，现为{count}个"));
    }
    if let Some(least) = detail
        .strip_prefix("at least ")
        .and_then(|rest| rest.strip_suffix(" characters"))
    {
        return Some(format!("至少{}个字符", number(least)?));
    }
    if let Some(given) = detail
        .strip_prefix("characters 7–14 must be a birth date, `")
        .and_then(|rest| rest.strip_suffix("` is not"))
    {
        return Some(format!("第7至14位须为出生日期，“{given}”不是有效日期"));
    }
    if let Some((position, given)) = detail
        .strip_prefix("character ")
        .and_then(|rest| rest.split_once(" is `"))
        .and_then(|(position, rest)| {
            rest.strip_suffix(
                "`: write digits as ASCII 0–9 and the check character as X (full-width characters are not allowed)",
            )
            .map(|given| (position, given))
        })
    {
        return Some(format!(
            "第{}位是“{given}”：数字请用半角0至9，校验码用X（不接受全角字符）",
            number(position)?
        ));
    }
    if let Some(code) = detail
        .strip_prefix(CONTROL_CHARACTER)
        .and_then(|rest| rest.strip_prefix(" U+"))
    {
        return Some(format!("含有控制或格式字符 U+{code}，请删除"));
    }
    if let Some(rest) = detail.strip_prefix("check character is `") {
        let (given, rest) = rest.split_once("`, GB 11643 requires `")?;
        let expected = rest.strip_suffix('`')?;
        return Some(format!(
            "校验码为{given}，按GB 11643应为{expected}，请核对号码"
        ));
    }
    if let Some((given, _)) = detail
        .strip_prefix('`')
        .and_then(|rest| rest.split_once("` is none of "))
    {
        return Some(format!("“{given}”不在可选范围内"));
    }
    if let Some((given, _)) = detail
        .strip_prefix('`')
        .and_then(|rest| rest.split_once("` is not a date of the form YYYY-MM-DD"))
    {
        return Some(format!("“{given}”不是YYYY-MM-DD格式的日期"));
    }
    if let Some((given, _)) = detail
        .strip_prefix("case code `")
        .and_then(|rest| rest.split_once("` is not of the form RRRRRR-YYYY-NNNNNN"))
    {
        return Some(format!(
            "“{given}”不是“地区代码-年份-序号”（RRRRRR-YYYY-NNNNNN）形式的案件编号"
        ));
    }
    if let Some(name) = detail
        .strip_prefix("no shipped policy `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return Some(format!("没有名为“{name}”的内置政策"));
    }
    if let Some(name) = detail
        .strip_prefix('`')
        .and_then(|rest| rest.strip_suffix("` exists"))
    {
        return Some(format!("“{name}”已存在"));
    }
    if let Some(open) = detail
        .strip_prefix("a request about this fact of the record is open already (")
        .and_then(|rest| rest.split_once(')'))
        .map(|(id, _)| id)
    {
        return Some(format!(
            "关于该事项的更正申请（{open}）尚在办理，请等待答复"
        ));
    }
    if let Some((field, rest)) = detail
        .strip_prefix('`')
        .and_then(|rest| rest.split_once("` is no fact of "))
    {
        let record = if rest.starts_with("a violation record") {
            "违法记录"
        } else {
            "犯罪记录"
        };
        let name = Lang::Zh.code_text("correction_field", field);
        return Some(format!("“{name}”不是{record}的事项"));
    }
    if let Some(range) = detail.strip_prefix("must be from ") {
        let (min, rest) = range.split_once(" to ")?;
        let max = rest.split_whitespace().next()?;
        return Some(format!("须为{}至{}", number(min)?, number(max)?));
    }
    match detail {
        "a whole number" => Some("须为整数".to_owned()),
        "characters 1–17 must be digits" => Some("前17位须为数字".to_owned()),
        "choose at least one policy" => Some("请至少选择一个政策".to_owned()),
        "choose a record-facts NDJSON file" => Some("请选择记录事实文件（NDJSON）".to_owned()),
        "differs from the name this person was enrolled with" => {
            Some("与此人登记时的姓名不一致".to_owned())
        }
        "not the number and name this enrolment was opened with; check the identity card" => {
            Some("与登记时的身份证号和姓名不一致，请核对身份证件".to_owned())
        }
        "not the number and name this enrolment was opened with; the enrolment is closed after three such refusals: open a new one" => {
            Some(
                "与登记时的身份证号和姓名不一致；三次核对不符，此登记已关闭，请重新登记".to_owned(),
            )
        }
        "the name differs from the name this person was enrolled with" => {
            Some("姓名与此人开通账户时的姓名不一致".to_owned())
        }
        "10 enrolments of yours wait for a second clerk; have them confirmed (or let them expire) first" => {
            Some("您已有10条登记待第二位窗口人员核对，请先完成核对（或待其过期）".to_owned())
        }
        "not a valid activation code for this identity number" => {
            Some("不是此身份证号的有效激活码".to_owned())
        }
        "used already (or replaced by a newer one); ask the counter for a new code" => {
            Some("已使用（或已被新的激活码取代），请到柜台重新领取".to_owned())
        }
        "expired (valid 72 hours); ask the counter for a new code" => {
            Some("已过期（有效期72小时），请到柜台重新领取".to_owned())
        }
        "the activation code printed at the counter" => Some("请输入柜台打印的激活码".to_owned()),
        "confirmed already; a new code needs a new enrolment" => {
            Some("已核对并生成过激活码；如需新的激活码，请重新登记".to_owned())
        }
        "closed (three confirmations that did not match the card, the person's account confirmed through another enrolment, or the clerk who opened it disabled)" => {
            Some(
                "已关闭（三次核对与证件不符、此人的账户已通过另一登记开通，或登记人已被停用）"
                    .to_owned(),
            )
        }
        "expired (a second clerk confirms within 24 hours); open a new one" => {
            Some("已过期（须在24小时内由第二位窗口人员核对），请重新登记".to_owned())
        }
        _ => None,
    }
}

/// `username: 3 to 64 …` → (`username`, `3 to 64 …`): a field is a lower-case identifier.
fn field_of(message: &str) -> Option<(&str, &str)> {
    let (field, detail) = message.split_once(':')?;
    let is_field = !field.is_empty()
        && field
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit());
    is_field.then_some((field, detail))
}

/// Every text: the foundation's and the pages' (notices, audit, policy, simulation).
fn all_texts() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TEXTS
        .iter()
        .chain(super::pages_text::PAGE_TEXTS)
        .chain(super::answer_text::ANSWER_TEXTS)
        .chain(super::looked_text::LOOKED_TEXTS)
        .chain(super::portal_text::PORTAL_TEXTS)
}

/// (key, 中文, English).
pub(crate) const TEXTS: &[(&str, &str, &str)] = &[
    ("app.name", "封存平台 · 工作台", "Fengcun console"),
    (
        "app.tagline",
        "未成年人及轻微犯罪记录封存平台",
        "Sealing platform for minor criminal records",
    ),
    ("lang.switch", "English", "中文"),
    // Menu
    ("nav.home", "首页", "Home"),
    ("nav.lookup", "查询", "Look-up"),
    ("nav.requests", "申请与审批", "Requests and approvals"),
    ("nav.notices", "通知", "Notices"),
    ("nav.supervision", "查询监督", "Supervision"),
    ("nav.audit", "审计", "Audit"),
    ("nav.users", "用户与密钥", "Users and keys"),
    ("nav.password", "修改密码", "Change password"),
    ("nav.logout", "退出登录", "Log out"),
    // Roles
    ("role.agency", "机关系统", "Agency system"),
    ("role.operator", "平台运维人员", "Operator"),
    ("role.auditor", "审计监督人员", "Auditor"),
    ("role.clerk", "办案人员", "Clerk"),
    ("role.approver", "审批人", "Approver"),
    ("role.administrator", "系统管理员", "Administrator"),
    ("role.requester", "查询申请人", "Requester"),
    ("role.policy_maker", "政策研究人员", "Policy maker"),
    ("role.supervisor", "查询监督人员", "Supervisor"),
    // Requester kinds
    ("kind.court", "人民法院", "court"),
    ("kind.procuratorate", "人民检察院", "procuratorate"),
    ("kind.public_security", "公安机关", "public security"),
    ("kind.state_security", "国家安全机关", "state security"),
    (
        "kind.justice_administration",
        "司法行政机关",
        "justice administration",
    ),
    (
        "kind.supervision_commission",
        "监察委员会",
        "supervision commission",
    ),
    ("kind.employer", "用人单位", "employer"),
    ("kind.person", "本人", "the person"),
    ("kind.lawyer", "律师", "lawyer"),
    // Purposes
    ("purpose.case_handling", "办案需要", "case handling"),
    (
        "purpose.national_security_review",
        "国家安全审查",
        "national security review",
    ),
    (
        "purpose.special_post_vetting",
        "特殊岗位从业审查",
        "special post vetting",
    ),
    ("purpose.certificate", "开具无犯罪记录证明", "certificate"),
    ("purpose.self_inspection", "本人查询", "self inspection"),
    // Request states
    ("status.pending", "待审批", "pending"),
    ("status.approved", "已批准", "approved"),
    ("status.refused", "已驳回", "refused"),
    ("status.withdrawn", "已撤回", "withdrawn"),
    // Fields (named by errors)
    ("field.username", "用户名", "Username"),
    ("field.password", "密码", "Password"),
    ("field.current_password", "当前密码", "Current password"),
    ("field.new_password", "新密码", "New password"),
    ("field.role", "角色", "Role"),
    ("field.requester_kind", "查询身份", "Requester kind"),
    ("field.agency", "机关代码", "Agency code"),
    ("field.id_number", "身份证号", "Identity number"),
    ("field.case_code", "案件编号", "Case code"),
    ("field.name", "姓名", "Name"),
    ("field.enrolment", "登记", "Enrolment"),
    ("field.card", "身份证件", "Identity card"),
    ("field.key_name", "密钥名称", "Key name"),
    ("field.owner", "所属用户", "Owner"),
    ("field.purpose", "查询目的", "Purpose"),
    ("field.post", "岗位", "Post"),
    ("field.basis", "法律依据", "Legal basis"),
    ("field.reason", "理由", "Reason"),
    ("field.days", "授权天数", "Days"),
    ("field.actor", "操作者", "Actor"),
    ("field.kind", "类别", "Kind"),
    ("field.subject", "对象", "Subject"),
    ("field.from", "起始日期", "From"),
    ("field.to", "截止日期", "To"),
    // What each field's rule is, in words
    (
        "rule.username",
        "须为3至64个字母、数字或 - _ . @",
        "3 to 64 letters, digits or - _ . @",
    ),
    ("rule.password", "至少12个字符", "at least 12 characters"),
    (
        "rule.new_password",
        "至少12个字符，且不同于当前密码",
        "at least 12 characters, not the current one",
    ),
    ("rule.current_password", "与当前密码不符", "does not match"),
    (
        "rule.requester_kind",
        "该角色须选择（或不得选择）查询身份",
        "this role needs (or takes no) requester kind",
    ),
    (
        "rule.agency",
        "机关系统账户必须填写；办案人员可填写所在机关；其他角色不得填写",
        "always for an agency account, optional for a clerk (their agency), never for others",
    ),
    (
        "rule.id_number",
        "须为有效的18位公民身份号码",
        "a valid 18-character identity number",
    ),
    ("rule.case_code", "须为有效的案件编号", "a valid case code"),
    ("rule.post", "岗位须为1至64个字符", "1 to 64 characters"),
    (
        "rule.basis",
        "须写明依据的文书",
        "the document the request is made under",
    ),
    (
        "rule.reason",
        "须写明理由（至少4个字符）",
        "a reason of at least 4 characters",
    ),
    (
        "rule.days",
        "超出披露规则允许的授权期限",
        "beyond the window the disclosure table allows",
    ),
    ("rule.owner", "须为已启用的用户", "an enabled user"),
    ("rule.name", "长度不符合要求", "of the wrong length"),
    ("rule.purpose", "须选择查询目的", "choose a purpose"),
    // Errors
    ("error.title", "出错了", "Something went wrong"),
    (
        "error.unauthenticated",
        "用户名或密码错误，或账户已停用。",
        "Wrong username or password, or the account is disabled.",
    ),
    ("error.refused", "不允许进行此操作", "This is not allowed"),
    (
        "error.throttled",
        "失败次数过多，请在",
        "Too many failed attempts; try again in ",
    ),
    ("error.seconds", "秒后重试。", " seconds."),
    ("error.invalid", "填写内容有误", "Invalid input"),
    (
        "error.not_found",
        "未找到该项，或您无权查看。",
        "Not found, or not yours to see.",
    ),
    (
        "error.internal",
        "系统内部错误，请稍后重试。",
        "Internal error; please try again later.",
    ),
    (
        "error.csrf",
        "表单安全令牌缺失或无效，操作未执行并已记录。请重新打开页面后再试。",
        "The form's security token is missing or wrong; nothing was done and the attempt is logged. Open the page again and retry.",
    ),
    ("error.back", "返回首页", "Back to the home page"),
    ("error.required", "必须填写", "is required"),
    // Login and password
    ("login.title", "登录", "Log in"),
    ("login.submit", "登录", "Log in"),
    ("password.title", "修改密码", "Change password"),
    ("password.submit", "修改密码", "Change password"),
    (
        "password.done",
        "密码已修改，其他会话已全部结束。",
        "Password changed; every other session has ended.",
    ),
    // Home
    ("home.title", "首页", "Home"),
    ("home.welcome", "您好，", "Welcome, "),
    ("home.as", "当前身份：", "Signed in as: "),
    ("home.tasks", "您可以办理的事项", "What you may do here"),
    (
        "home.lookup",
        "声明查询目的、岗位和法律依据，查询人员或案件的记录。",
        "Look a person or a case up, declaring purpose, post and legal basis.",
    ),
    (
        "home.requests",
        "提出查询已封存记录的申请；审批人审批申请、管理授权。",
        "Ask to see sealed records; approvers decide requests and manage grants.",
    ),
    (
        "home.notices",
        "查看未签收和发送失败的通知，重新发送，打印通知书。",
        "Unacknowledged and failed notices, retry, print the formal notice.",
    ),
    (
        "home.audit",
        "按操作者、类别、对象和日期查看审计日志，校验日志，下载证明。",
        "Audit entries by actor, kind, subject and date; verify the log; download proofs.",
    ),
    (
        "home.users",
        "创建用户、停用账户、重置密码；签发和吊销机关密钥。",
        "Create users, disable them, reset passwords; issue and revoke agency keys.",
    ),
    (
        "home.password",
        "修改您自己的登录密码。",
        "Change your own password.",
    ),
    (
        "home.enrol",
        "在窗口核验身份后为本人开通账户，发放一次性开通码。",
        "Open a person's account at the counter after checking their identity; hand out a one-time activation code.",
    ),
    (
        "home.policy",
        "阅读生效的封存政策，预览修改的影响并提交变更。",
        "Read the policy in force, preview what a change would do, and apply it.",
    ),
    (
        "home.simulation",
        "用合成数据或上传的记录比较各封存政策的覆盖面。",
        "Compare what policies would seal, on synthetic or uploaded records.",
    ),
    (
        "home.supervision",
        "查看对查询行为的监督提示，逐条核查并记录核查结论。",
        "Read the supervision flags on look-up behaviour and record what each review found.",
    ),
    (
        "home.correction_queue",
        "处理本人提出的、由本机关答复的记录更正申请。",
        "Answer the correction requests persons addressed to your agency.",
    ),
    // ---- Dashboard, records and a record's timeline (i16-dash) ----
    ("nav.records", "记录", "Records"),
    (
        "home.records",
        "按案件编号或机关文书号查找案件；按状态和封存日期列出记录；查看记录的全过程。",
        "Find a case by case code or an agency's document number; list records by state and due date; read a record's timeline.",
    ),
    ("dash.title", "概况", "Overview"),
    ("dash.as_of", "截至", "as of "),
    (
        "dash.counted_at",
        "以下数字每半分钟统计一次，本次统计于",
        "These numbers are counted every half minute; last counted ",
    ),
    ("dash.records", "记录总数", "Records"),
    ("dash.sealed", "已封存", "Sealed"),
    ("dash.pending_seal", "待封存", "Pending seal"),
    ("dash.due_7", "本周到期的封存", "Seals due this week"),
    ("dash.due_30", "30日内到期的封存", "Seals due in 30 days"),
    (
        "dash.unack_3",
        "逾3日未签收的通知",
        "Notices unacknowledged after 3 days",
    ),
    (
        "dash.unack_7",
        "逾7日未签收的通知",
        "Notices unacknowledged after 7 days",
    ),
    ("dash.failed", "发送失败的通知", "Failed deliveries"),
    ("dash.pending_requests", "待审批的申请", "Pending requests"),
    ("dash.live_grants", "有效授权", "Live grants"),
    ("dash.by_state", "各状态记录数", "Records by state"),
    ("dash.by_agency", "各机关持有的记录数", "Records by agency"),
    ("dash.no_data", "暂无数据。", "No data."),
    (
        "dash.due_list",
        "查看本周到期的封存",
        "List the seals due this week",
    ),
    (
        "dash.waiting",
        "等待您审批的申请",
        "Requests waiting for your decision",
    ),
    ("state.open", "办理中", "open"),
    ("state.not_eligible", "不予封存", "not eligible"),
    ("state.pending_seal", "待封存", "pending seal"),
    ("state.sealed", "已封存", "sealed"),
    ("state.unsealed", "已解封", "unsealed"),
    ("state.revoked", "撤销封存", "seal revoked"),
    ("purpose.operations", "平台运维", "operations"),
    ("purpose.supervision", "监督检查", "supervision"),
    ("agency_kind.public_security", "公安机关", "public security"),
    ("agency_kind.procuratorate", "人民检察院", "procuratorate"),
    ("agency_kind.court", "人民法院", "court"),
    ("agency_kind.prison", "监狱、看守所", "prison"),
    (
        "agency_kind.community_correction",
        "社区矫正机构",
        "community correction",
    ),
    (
        "agency_kind.state_security",
        "国家安全机关",
        "state security",
    ),
    ("notice_kind.seal", "封存通知书", "Sealing notice"),
    ("notice_kind.unseal", "解除封存通知书", "Unsealing notice"),
    ("notice_status.available", "可查阅", "available"),
    ("field.document_number", "文书号", "Document number"),
    ("field.state", "状态", "State"),
    ("field.due_before", "封存日期早于", "Due before"),
    ("field.cursor", "翻页位置", "Page"),
    ("field.limit", "每页条数", "Page size"),
    (
        "rule.document_number",
        "须为1至100个字符",
        "1 to 100 characters",
    ),
    (
        "rule.due_before",
        "须为日期（年-月-日）",
        "a date (YYYY-MM-DD)",
    ),
    ("records.title", "记录", "Records"),
    ("records.search", "查找案件", "Find a case"),
    (
        "records.q",
        "案件编号或文书号",
        "Case code or document number",
    ),
    (
        "records.q_hint",
        "如 110101-2026-000123，或机关的案号、文书号",
        "e.g. 110101-2026-000123, or an agency's own document number",
    ),
    (
        "records.doc_agency",
        "文书号所属机关代码",
        "Agency of the document number",
    ),
    (
        "records.doc_agency_hint",
        "按文书号查找时填写；默认为本机关",
        "for a document number; your own agency by default",
    ),
    ("records.search_submit", "查找", "Find"),
    (
        "records.not_found",
        "未找到该案件，或您无权查看。",
        "No such case, or not yours to see.",
    ),
    (
        "records.q_required",
        "「案件编号或文书号」有误：必须填写",
        "Case code or document number: is required",
    ),
    (
        "records.agency_required",
        "所填内容不是案件编号（形如110105-2024-000123），按文书号查找：请填写文书号所属机关代码",
        "Not a case code (such as 110105-2024-000123); to find a document number, give the agency that issued it",
    ),
    ("records.list", "记录列表", "Record list"),
    ("records.state", "状态", "State"),
    ("records.any", "全部", "any"),
    (
        "records.due_before",
        "封存日期早于（待封存）",
        "Seal due before (pending)",
    ),
    ("records.filter", "筛选", "Filter"),
    ("records.none", "没有符合条件的记录。", "No records match."),
    ("records.state_date", "状态日期", "State date"),
    ("records.policy", "政策", "Policy"),
    ("records.updated", "更新时间", "Updated"),
    ("records.next", "下一页", "Next page"),
    ("timeline.title", "案件记录", "Case"),
    ("timeline.read_for", "查阅目的：", "Read for: "),
    ("timeline.back", "返回记录", "Back to records"),
    ("timeline.received", "平台接收：", "received "),
    ("timeline.effective", "生效日期：", "effective "),
    ("timeline.policy", "政策：", "Policy: "),
    ("timeline.version", "版本：", "version "),
    ("timeline.actor", "决定者：", "by "),
    (
        "timeline.automatic",
        "系统依政策自动决定",
        "the platform, by the policy",
    ),
    ("timeline.as_of", "决定所依日期：", "as of "),
    ("timeline.trigger", "解封事由：", "Lifted by: "),
    ("timeline.unseal_rule", "解封规则：", "Unsealing rule: "),
    ("timeline.reasons", "逐条理由", "Reasons, rule by rule"),
    ("timeline.holds", "满足", "holds"),
    ("timeline.fails", "不满足", "does not hold"),
    ("timeline.basis", "依据：", "Basis: "),
    ("timeline.missing", "缺少事实：", "Missing facts: "),
    ("timeline.to_person", "当事人", "the person"),
    ("timeline.notice_id", "通知编号：", "Notice "),
    ("timeline.attempts", "发送次数：", "attempts: "),
    ("timeline.delivered", "送达：", "delivered "),
    ("timeline.acknowledged", "签收：", "acknowledged "),
    // ---- end of i16-dash ----
    // Users and keys
    ("users.title", "用户与密钥", "Users and keys"),
    ("users.list", "用户", "Users"),
    ("users.create", "新建用户", "New user"),
    ("users.status", "状态", "Status"),
    ("users.enabled", "正常", "enabled"),
    ("users.disabled", "已停用", "disabled"),
    ("users.disable", "停用", "Disable"),
    ("users.enable", "启用", "Enable"),
    ("users.reset", "重置密码", "Reset password"),
    ("users.created", "用户已创建：", "User created: "),
    ("users.changed", "用户已更新：", "User updated: "),
    (
        "users.reset_done",
        "密码已重置，该用户的会话已全部结束：",
        "Password reset; every session of the user has ended: ",
    ),
    ("users.none", "（无）", "(none)"),
    ("users.actions", "操作", "Actions"),
    ("keys.list", "机关密钥", "Agency keys"),
    ("keys.create", "签发密钥", "Issue a key"),
    (
        "keys.created",
        "新密钥（只显示这一次，请立即妥善保存）",
        "The new key (shown this once only; store it now)",
    ),
    ("keys.revoke", "吊销", "Revoke"),
    ("keys.revoked", "已吊销", "revoked"),
    ("keys.revoked_done", "密钥已吊销：", "Key revoked: "),
    ("keys.id", "编号", "Id"),
    ("keys.created_at", "签发时间", "Issued"),
    // Requests
    ("requests.title", "申请与审批", "Requests and approvals"),
    (
        "requests.new",
        "申请查询已封存记录",
        "Ask to see sealed records",
    ),
    ("requests.submit", "提交申请", "File the request"),
    ("requests.filed", "申请已提交：", "Request filed: "),
    (
        "requests.queue",
        "待审批的申请",
        "Requests waiting for a decision",
    ),
    ("requests.mine", "我的申请", "My requests"),
    ("requests.all", "全部申请", "All requests"),
    ("requests.none", "暂无申请。", "No requests."),
    ("requests.id", "申请编号", "Request"),
    ("requests.requester", "申请人", "Requester"),
    ("requests.person", "当事人", "Person"),
    ("requests.status", "状态", "Status"),
    ("requests.created", "提交时间", "Filed"),
    ("requests.decision", "审批意见", "Decision"),
    ("requests.approve", "批准", "Approve"),
    ("requests.refuse", "驳回", "Refuse"),
    (
        "requests.approved",
        "已批准，授权编号：",
        "Approved; grant ",
    ),
    ("requests.refused", "已驳回：", "Refused: "),
    (
        "requests.days_hint",
        "留空则按披露规则的最长期限",
        "empty: the longest the disclosure table allows",
    ),
    ("grants.title", "授权", "Grants"),
    ("grants.none", "暂无授权。", "No grants."),
    ("grants.id", "授权编号", "Grant"),
    ("grants.window", "有效期", "Window"),
    ("grants.until", "至", "until"),
    ("grants.revoke", "撤销授权", "Revoke"),
    ("grants.revoked", "已撤销", "revoked"),
    ("grants.revoked_done", "授权已撤销：", "Grant revoked: "),
    ("grants.live", "有效", "live"),
    ("grants.expired", "已过期", "expired"),
    // Look-up
    ("lookup.title", "查询", "Look-up"),
    (
        "lookup.by",
        "按身份证号或案件编号查询（至少填一项）",
        "By identity number or case code (at least one)",
    ),
    ("lookup.submit", "查询", "Look up"),
    ("lookup.answer", "答复", "Answer"),
    ("lookup.basis_shown", "依据", "Basis"),
    ("lookup.record", "记录", "Record"),
    ("lookup.grant", "依据授权", "Under grant"),
    (
        "lookup.post_hint",
        "特殊岗位从业审查时选择",
        "for special post vetting",
    ),
    ("lookup.no_post", "（不涉及特殊岗位）", "(no special post)"),
    (
        "lookup.either",
        "请填写身份证号或案件编号（至少一项）",
        "Give an identity number or a case code (at least one)",
    ),
    // Buttons and forms
    ("form.submit", "提交", "Submit"),
    ("form.optional", "（选填）", " (optional)"),
    ("form.choose", "请选择", "Choose"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_used_in_a_template_or_a_view_has_both_texts() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for sub in ["templates", "src/console"] {
            for entry in std::fs::read_dir(dir.join(sub)).expect("a directory") {
                let path = entry.expect("an entry").path();
                sources.push(std::fs::read_to_string(&path).expect("a readable file"));
            }
        }
        let mut used = 0;
        for source in &sources {
            for (index, _) in source.match_indices(".t(\"") {
                let rest = &source[index + 4..];
                let key = &rest[..rest.find('"').expect("a closing quote")];
                used += 1;
                assert!(
                    all_texts().any(|(k, zh, en)| *k == key && !zh.is_empty() && !en.is_empty()),
                    "no text for `{key}`"
                );
            }
        }
        assert!(used > 50, "only {used} keys found");
    }

    /// The home page describes every task of the menu (`home.<entry>`): some once showed "?".
    #[test]
    fn every_menu_entry_is_described_on_the_home_page() {
        let kinds = std::iter::once(None).chain(fengcun_access::RequesterKind::ALL.map(Some));
        for kind in kinds {
            for role in crate::config::Role::ALL {
                if role == crate::config::Role::Person {
                    // A person's home is their own records, not a list of tasks.
                    continue;
                }
                let entries = super::super::menu(role, kind, "/console/");
                let keys = entries
                    .iter()
                    .map(|n| n.key)
                    .chain(["nav.correction_queue"])
                    .filter(|key| *key != "nav.home");
                for key in keys {
                    let about = format!("home.{}", key.trim_start_matches("nav."));
                    assert!(
                        all_texts().any(|(k, _, _)| *k == about),
                        "{role:?} {kind:?}: no `{about}`"
                    );
                }
            }
        }
    }

    /// The commonest refusals read in Chinese without English in them; a field without a rule
    /// text reads without an empty slot in either language.
    #[test]
    fn common_refusals_read_in_chinese() {
        use crate::service::ServiceError;
        let zh = |message: &str| Lang::Zh.error(&ServiceError::Invalid(message.to_owned()));
        for (message, expected) in [
            (
                "purpose: `zzz` is none of case_handling, vetting",
                "“zzz”不在可选范围内",
            ),
            (
                "as_of: `xx` is not a date of the form YYYY-MM-DD",
                "“xx”不是YYYY-MM-DD格式的日期",
            ),
            ("policies: choose at least one policy", "请至少选择一个政策"),
            (
                "name: differs from the name this person was enrolled with",
                "与此人登记时的姓名不一致",
            ),
            (
                "days: must be from 1 to 30 (the disclosure table's grant_days)",
                "须为1至30",
            ),
            ("username: `u4zh` exists", "“u4zh”已存在"),
            (
                "field: a request about this fact of the record is open already (cor-1a2b); its answer comes first",
                "关于该事项的更正申请（cor-1a2b）尚在办理",
            ),
            (
                "field: `penalty` is no fact of a criminal record; choose one of charges, sentence",
                "“治安管理处罚”不是犯罪记录的事项",
            ),
        ] {
            let text = zh(message);
            assert!(text.contains(expected), "{message}: {text}");
            // Only the value given (quoted) and codes such as YYYY-MM-DD stay in Latin letters.
            let words = ["zzz", "xx", "u4zh", "YYYY-MM-DD", "NDJSON", "cor-1a2b"]
                .iter()
                .fold(text.clone(), |words, code| words.replace(code, ""));
            assert!(
                !words.chars().any(|c| c.is_ascii_alphabetic()),
                "{message}: English left in {text}"
            );
        }
        let en = Lang::En.error(&ServiceError::Invalid(
            "policies: choose at least one policy".to_owned(),
        ));
        assert!(!en.contains(":  ("), "{en}");
        // A control character in a name is not a matter of its length.
        let control = "name: holds the control or formatting character U+0007";
        let text = zh(control);
        assert!(
            text.contains("含有控制或格式字符 U+0007") && !text.contains("长度"),
            "{text}"
        );
        let en = Lang::En.error(&ServiceError::Invalid(control.to_owned()));
        assert!(
            en.contains("U+0007") && !en.contains("wrong length"),
            "{en}"
        );
    }

    /// The audit page's kind filter names every kind of entry in both languages.
    #[test]
    fn every_audit_kind_has_its_words() {
        for kind in fengcun_store::AuditKind::ALL {
            let code = kind.code();
            assert_ne!(Lang::Zh.code_text("audit_kind", code), code, "{code}");
            assert_ne!(Lang::En.code_text("audit_kind", code), "", "{code}");
        }
    }

    /// The notices page says how many of a list it shows: the service's page.
    #[test]
    fn the_first_page_note_names_the_page_size() {
        let size = crate::service::notices::PAGE.to_string();
        assert!(Lang::Zh.t("notices.first_page").contains(&size));
        assert!(Lang::En.t("notices.first_page").contains(&size));
    }

    #[test]
    fn keys_are_unique() {
        let all: Vec<_> = all_texts().collect();
        for (i, (key, _, _)) in all.iter().enumerate() {
            assert!(!all[..i].iter().any(|(k, _, _)| k == key), "`{key}` twice");
        }
    }

    #[test]
    fn dates_in_chinese_and_english() {
        let date = jiff::civil::date(2026, 12, 5);
        assert_eq!(Lang::Zh.date(date), "2026年12月5日");
        assert_eq!(Lang::En.date(date), "5 December 2026");
        assert_eq!(Lang::Zh.time("2026-12-05T02:30:00Z"), "2026年12月5日 10:30");
    }

    #[test]
    fn errors_name_the_field_in_chinese() {
        let error = ServiceError::Invalid("username: 3 to 64 of a-z, A-Z, 0-9, -, _, ., @".into());
        let text = Lang::Zh.error(&error);
        assert!(text.starts_with("「用户名」有误：须为3至64个"), "{text}");
    }
}

#[cfg(test)]
mod detail_tests {
    use super::detail_in_chinese;

    #[test]
    fn the_common_rules_read_in_chinese_and_the_rest_as_written() {
        for (english, chinese) in [
            (
                "4 to 1000 characters, has 0",
                Some("应为4至1000个字符，现为0个"),
            ),
            ("at least 12 characters", Some("至少12个字符")),
            (
                "must have 18 characters, has 17",
                Some("应为18位，现为17位"),
            ),
            (
                "check character is `1`, GB 11643 requires `0`",
                Some("校验码为1，按GB 11643应为0，请核对号码"),
            ),
            ("a whole number", Some("须为整数")),
            (
                "characters 7–14 must be a birth date, `19961301` is not",
                Some("第7至14位须为出生日期，“19961301”不是有效日期"),
            ),
            (
                "character 1 is `１`: write digits as ASCII 0–9 and the check character as X (full-width characters are not allowed)",
                Some("第1位是“１”：数字请用半角0至9，校验码用X（不接受全角字符）"),
            ),
            (
                "holds the control or formatting character U+0000",
                Some("含有控制或格式字符 U+0000，请删除"),
            ),
            ("key must be a string at line 1 column 2", None),
        ] {
            assert_eq!(detail_in_chinese(english).as_deref(), chinese, "{english}");
        }
    }
}
