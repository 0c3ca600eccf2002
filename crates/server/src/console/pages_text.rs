//! The words of the notices, audit, policy and simulation pages (Chinese, English), kept apart
//! from `i18n::TEXTS` so that each block of pages brings its own; `Lang::t` reads both.

/// (key, 中文, English).
pub(crate) const PAGE_TEXTS: &[(&str, &str, &str)] = &[
    // Menu
    ("nav.policy", "封存政策", "Policy"),
    ("nav.simulation", "政策模拟", "Simulation"),
    // Notices
    ("notices.title", "通知书", "Notices"),
    (
        "notices.failed",
        "投递失败的通知书",
        "Notices whose delivery failed",
    ),
    (
        "notices.unacknowledged",
        "尚未签收的通知书",
        "Notices not acknowledged yet",
    ),
    ("notices.none", "暂无。", "None."),
    ("notices.document", "文书", "Document"),
    ("notices.recipient", "送达对象", "Recipient"),
    ("notices.attempts", "投递次数", "Attempts"),
    ("notices.last_error", "最近一次错误", "Last error"),
    ("notices.status", "状态", "Status"),
    ("notices.created", "制作时间", "Made"),
    ("notices.delivered", "送达时间", "Delivered"),
    ("notices.retry", "重新投递", "Retry"),
    (
        "notices.retried",
        "已重新放入投递队列：",
        "Put back in the outbox: ",
    ),
    ("notices.back", "返回通知书列表", "Back to the notices"),
    (
        "notices.print_hint",
        "使用浏览器的“打印”即可打印本文书（A4）。",
        "Print this document with the browser's Print (A4).",
    ),
    ("notices.number", "文书编号：", "Document number: "),
    ("notice_status.pending", "待投递", "pending"),
    ("notice_status.retrying", "重试中", "retrying"),
    ("notice_status.delivered", "已送达", "delivered"),
    ("notice_status.failed", "投递失败", "failed"),
    ("notice_status.acknowledged", "已签收", "acknowledged"),
];
