//! Center-wide settings an administrator changes: name, time zone and the
//! periods of each appeal type (PRODUCT.md §3).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::types::AppealType;

/// The periods of one appeal type, in working days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Period {
    pub appeal_type: AppealType,
    pub total_days: u32,
    pub sign_for_days: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Settings {
    pub center_name: String,
    /// IANA time zone of the center.
    pub timezone: String,
    pub periods: Vec<Period>,
    /// Emergency repair: respond (sign for) within this many hours …
    pub emergency_response_hours: u32,
    /// … and finish within this many.
    pub emergency_finish_hours: u32,
    /// Callback attempts that reach nobody before the ticket closes as
    /// `unreachable`.
    pub callback_max_attempts: u8,
    /// Share (0–100 %) of consultations answered at intake that are sampled
    /// for a callback.
    pub callback_sample_percent: u8,
}

impl Default for Settings {
    fn default() -> Self {
        use AppealType::*;
        let p = |appeal_type, total_days| Period {
            appeal_type,
            total_days,
            sign_for_days: 3,
        };
        Settings {
            center_name: "12345政务服务便民热线".into(),
            timezone: "Asia/Shanghai".into(),
            periods: vec![
                p(Consultation, 5),
                p(Help, 15),
                p(Complaint, 15),
                p(Suggestion, 15),
                p(Praise, 15),
                p(Report, 30),
            ],
            emergency_response_hours: 1,
            emergency_finish_hours: 24,
            callback_max_attempts: 3,
            callback_sample_percent: 20,
        }
    }
}

impl Settings {
    /// The periods of a (non-emergency) type; 15/3 if unset.
    pub fn period(&self, t: AppealType) -> Period {
        self.periods
            .iter()
            .copied()
            .find(|p| p.appeal_type == t)
            .unwrap_or(Period {
                appeal_type: t,
                total_days: 15,
                sign_for_days: 3,
            })
    }

    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_product() {
        let s = Settings::default();
        assert_eq!(s.period(AppealType::Consultation).total_days, 5);
        assert_eq!(s.period(AppealType::Report).total_days, 30);
        assert_eq!(s.period(AppealType::Complaint).sign_for_days, 3);
        assert_eq!(s.emergency_response_hours, 1);
        assert_eq!(s.tz().iana_name(), Some("Asia/Shanghai"));
        let partial: Settings = serde_json::from_str(r#"{"center_name":"x"}"#).unwrap();
        assert_eq!(partial.timezone, "Asia/Shanghai");
    }
}
