//! The fixed vocabulary of shared/API.md: roles, channels, appeal types,
//! urgency, states, supervision and satisfaction.
//!
//! Every enumeration has a stable `u8` code (used in storage keys and
//! records; never renumber), a snake_case API name and a Chinese label.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! vocab {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $api:literal, $zh:literal, $en:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant = $code,)* }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// The stable storage code.
            pub fn code(self) -> u8 { self as u8 }
            /// The value with this storage code.
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
            /// The API name (snake_case).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $api,)* }
            }
            /// Parses the API name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($api => Some($name::$variant),)* _ => None }
            }
            /// The Chinese label shown in the UI.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)* }
            }
            /// The English label.
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en,)* }
            }
            /// The label in a UI language (`"en"` or anything else for Chinese).
            pub fn label(self, lang: &str) -> &'static str {
                if lang == "en" { self.label_en() } else { self.label_zh() }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

vocab!(
    /// What a person may do (PRODUCT.md §1). A person can hold several.
    Role {
        Operator = 1, "operator", "话务员", "Operator";
        Dispatcher = 2, "dispatcher", "派单员", "Dispatcher";
        Reviewer = 3, "reviewer", "复核员", "Reviewer";
        CallbackAgent = 4, "callback_agent", "回访员", "Callback agent";
        DepartmentHandler = 5, "department_handler", "承办人", "Department handler";
        QaInspector = 6, "qa_inspector", "质检员", "QA inspector";
        TeamLead = 7, "team_lead", "班长", "Team lead";
        Leader = 8, "leader", "领导", "Leader";
        Admin = 9, "admin", "管理员", "Administrator";
    }
);

vocab!(
    /// How the appeal reached the center.
    Channel {
        Phone = 1, "phone", "电话", "Phone";
        Web = 2, "web", "网站", "Web";
        Wechat = 3, "wechat", "微信", "WeChat";
        Email = 4, "email", "电子邮件", "E-mail";
        WalkIn = 5, "walk_in", "来访", "Walk-in";
        Letter = 6, "letter", "来信", "Letter";
        Transfer110 = 7, "transfer_110", "110转办", "Transfer from 110";
    }
);

vocab!(
    /// 诉求类型: decides the default periods.
    AppealType {
        Consultation = 1, "consultation", "咨询", "Consultation";
        Help = 2, "help", "求助", "Help request";
        Complaint = 3, "complaint", "投诉", "Complaint";
        Suggestion = 4, "suggestion", "建议", "Suggestion";
        Praise = 5, "praise", "表扬", "Praise";
        Report = 6, "report", "举报", "Report";
        Emergency = 7, "emergency", "抢险", "Emergency";
    }
);

vocab!(
    /// 紧急程度.
    Urgency {
        Normal = 1, "normal", "一般", "Normal";
        Urgent = 2, "urgent", "紧急", "Urgent";
        Emergency = 3, "emergency", "特急", "Emergency";
    }
);

vocab!(
    /// Where the ticket stands in the workflow (PRODUCT.md §4).
    State {
        PendingDispatch = 1, "pending_dispatch", "待派单", "Pending dispatch";
        AwaitingSignFor = 2, "awaiting_sign_for", "待签收", "Awaiting sign-for";
        InProgress = 3, "in_progress", "办理中", "In progress";
        AwaitingApproval = 4, "awaiting_approval", "待审批", "Awaiting approval";
        AwaitingReview = 5, "awaiting_review", "待复核", "Awaiting review";
        AwaitingCallback = 6, "awaiting_callback", "待回访", "Awaiting callback";
        AwaitingDecision = 7, "awaiting_decision", "待裁定", "Awaiting decision";
        Closed = 8, "closed", "已办结", "Closed";
        Voided = 9, "voided", "已作废", "Voided";
        Merged = 10, "merged", "已并案", "Merged";
    }
);

impl State {
    /// Closed, voided and merged tickets are finished: no stage runs.
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::Voided | State::Merged)
    }

    /// States in which a department stage with a deadline runs.
    pub fn has_stage_deadline(self) -> bool {
        matches!(
            self,
            State::AwaitingSignFor | State::InProgress | State::AwaitingApproval
        )
    }
}

vocab!(
    /// 监察状态 of the current stage (PRODUCT.md §5).
    Supervision {
        Normal = 1, "normal", "正常", "Normal";
        Warning = 2, "warning", "预警", "Warning";
        Yellow = 3, "yellow", "黄牌", "Yellow card";
        Red = 4, "red", "红牌", "Red card";
    }
);

vocab!(
    /// A callback's answer.
    Satisfaction {
        Satisfied = 1, "satisfied", "满意", "Satisfied";
        BasicallySatisfied = 2, "basically_satisfied", "基本满意", "Basically satisfied";
        Dissatisfied = 3, "dissatisfied", "不满意", "Dissatisfied";
        Unreachable = 4, "unreachable", "无法联系", "Unreachable";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(*r));
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        for s in State::ALL {
            assert_eq!(State::from_code(s.code()), Some(*s));
            assert_eq!(State::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(*c));
        }
        for a in AppealType::ALL {
            assert_eq!(AppealType::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(State::from_code(0), None);
    }

    #[test]
    fn api_names_are_the_fixed_vocabulary() {
        let roles: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            roles,
            [
                "operator",
                "dispatcher",
                "reviewer",
                "callback_agent",
                "department_handler",
                "qa_inspector",
                "team_lead",
                "leader",
                "admin"
            ]
        );
        let states: Vec<_> = State::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            states,
            [
                "pending_dispatch",
                "awaiting_sign_for",
                "in_progress",
                "awaiting_approval",
                "awaiting_review",
                "awaiting_callback",
                "awaiting_decision",
                "closed",
                "voided",
                "merged"
            ]
        );
        assert_eq!(Channel::Transfer110.as_str(), "transfer_110");
        assert_eq!(
            Satisfaction::BasicallySatisfied.as_str(),
            "basically_satisfied"
        );
    }

    #[test]
    fn final_and_stage_states() {
        assert!(State::Closed.is_final() && State::Voided.is_final() && State::Merged.is_final());
        assert!(!State::AwaitingCallback.is_final());
        assert!(State::AwaitingSignFor.has_stage_deadline());
        assert!(!State::PendingDispatch.has_stage_deadline());
    }
}
