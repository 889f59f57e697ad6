//! Record encoding: one format byte, then postcard.
//!
//! The format byte lets a migration tell old records from new ones; every
//! record type starts at format 1.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

pub const FORMAT: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let out = vec![FORMAT];
    postcard::to_extend(value, out).expect("postcard encoding into a Vec cannot fail")
}

pub fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT, rest)) => postcard::from_bytes(rest)
            .map_err(|e| StoreError::Corrupt(format!("cannot decode {what}: {e}"))),
        Some((f, _)) => Err(StoreError::Corrupt(format!(
            "{what} has unknown record format {f}"
        ))),
        None => Err(StoreError::Corrupt(format!("{what} is empty"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let b = encode(&("a".to_string(), 7u32));
        assert_eq!(b[0], FORMAT);
        let v: (String, u32) = decode("x", &b).unwrap();
        assert_eq!(v, ("a".to_string(), 7));
        assert!(decode::<(String, u32)>("x", &[]).is_err());
        assert!(decode::<(String, u32)>("x", &[9, 1]).is_err());
        assert!(decode::<(String, u32)>("x", &[FORMAT, 200]).is_err());
    }
}
