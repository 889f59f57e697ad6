//! Settings and the working-day calendar.

use std::collections::BTreeMap;

use redb::ReadableTable;

use super::tables::{CALENDAR, SETTINGS};
use super::{Result, Store, StoreError, codec};
use crate::domain::calendar::{Calendar, DayOverride};
use crate::domain::ticket::TicketNo;

pub use crate::domain::settings::Settings;

pub const KEY: &str = "center";

fn yyyymmdd_to_date(k: u32) -> Option<jiff::civil::Date> {
    jiff::civil::Date::new((k / 10000) as i16, (k / 100 % 100) as i8, (k % 100) as i8).ok()
}

impl Store {
    pub fn settings(&self) -> Result<Settings> {
        let r = self.read()?;
        let t = r.open_table(SETTINGS)?;
        match t.get(KEY)? {
            Some(v) => serde_json::from_slice(v.value())
                .map_err(|e| StoreError::Corrupt(format!("settings: {e}"))),
            None => Ok(Settings::default()),
        }
    }

    pub fn save_settings(&self, s: &Settings) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(SETTINGS)?;
            t.insert(
                KEY,
                serde_json::to_vec(s)
                    .expect("settings serialise")
                    .as_slice(),
            )?;
        }
        w.commit()?;
        Ok(())
    }

    /// Another JSON value of the settings table under `key` (e.g. the
    /// assessment weights); `None` when it was never saved.
    pub fn setting_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let r = self.read()?;
        let t = r.open_table(SETTINGS)?;
        match t.get(key)? {
            Some(v) => serde_json::from_slice(v.value())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("setting {key}: {e}"))),
            None => Ok(None),
        }
    }

    /// Saves a JSON value of the settings table under `key` (not `center`).
    pub fn save_setting_json<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<()> {
        debug_assert_ne!(key, KEY, "the center settings have their own writer");
        let bytes = serde_json::to_vec(value)
            .map_err(|e| StoreError::Corrupt(format!("setting {key}: {e}")))?;
        let w = self.write()?;
        {
            let mut t = w.open_table(SETTINGS)?;
            t.insert(key, bytes.as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn calendar(&self) -> Result<Calendar> {
        let r = self.read()?;
        let t = r.open_table(CALENDAR)?;
        let mut days = BTreeMap::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let d = yyyymmdd_to_date(k.value())
                .ok_or_else(|| StoreError::Corrupt(format!("calendar key {}", k.value())))?;
            days.insert(d, codec::decode::<DayOverride>("calendar day", v.value())?);
        }
        Ok(Calendar::new(days))
    }

    /// Replaces one year of the calendar.
    pub fn replace_calendar_year(
        &self,
        year: i16,
        days: &BTreeMap<jiff::civil::Date, DayOverride>,
    ) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(CALENDAR)?;
            let lo = year as u32 * 10000;
            t.retain_in(lo..lo + 10000, |_, _| false)?;
            for (d, o) in days.iter().filter(|(d, _)| d.year() == year) {
                t.insert(TicketNo::day_of(*d), codec::encode(o).as_slice())?;
            }
        }
        w.commit()?;
        Ok(())
    }
}
