//! Hash chains that make the timelines and the audit log tamper-evident.
//!
//! Every stored entry (a ticket event, an audit record) gets a *link*:
//! `SHA-256(previous link ‖ key ‖ stored record bytes)`, the first entry of
//! a chain starting from [`GENESIS`]. The link of entry *i* therefore
//! carries the hash of entry *i − 1*. Changing, removing, reordering or
//! inserting a record breaks the link of that entry (or of the next one);
//! [`first_break`] finds the first such entry. One chain per ticket (keys
//! hold the ticket number, so entries cannot be moved between tickets) and
//! one for the audit table.
//!
//! What this cannot detect: someone who rewrites a record *and* recomputes
//! every later link with this very function (the hash is not keyed). The
//! chain heads in earlier backups (and `hotline verify-audit`'s printed
//! head) are the anchors against that.

use sha2::{Digest, Sha256};

/// One link of a chain.
pub type Link = [u8; 32];

/// The link "before" the first entry of every chain.
pub const GENESIS: Link = [0; 32];

/// The link of an entry stored under `key` with the bytes `record`,
/// following `prev`.
pub fn link(prev: &Link, key: &[u8], record: &[u8]) -> Link {
    let mut h = Sha256::new();
    h.update(prev);
    h.update((key.len() as u32).to_le_bytes());
    h.update(key);
    h.update(record);
    h.finalize().into()
}

/// The key bytes of a ticket event (`(ticket, sequence)`), as hashed.
pub fn event_key(ticket: u64, seq: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&ticket.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The key bytes of an audit record, as hashed.
pub fn audit_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// Why an entry does not continue its chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// The stored link is not the hash of the previous link and this
    /// record: the record (or the one before) was changed, or an entry
    /// before it was removed.
    Mismatch,
    /// The entry has a record but no stored link.
    MissingLink,
    /// The entry has a stored link that is not 32 bytes long.
    BadLink,
}

/// One stored entry of a chain, in chain order.
pub struct Entry<'a> {
    pub key: &'a [u8],
    pub record: &'a [u8],
    /// The link stored with it (`None` if there is none).
    pub stored: Option<&'a [u8]>,
}

/// Walks a chain; keeps the last good link.
#[derive(Clone, Debug)]
pub struct Walker {
    prev: Link,
    /// Entries checked so far.
    pub checked: u64,
}

impl Default for Walker {
    fn default() -> Self {
        Walker::new()
    }
}

impl Walker {
    pub fn new() -> Self {
        Walker {
            prev: GENESIS,
            checked: 0,
        }
    }

    /// The link of the last entry checked (the chain's head so far).
    pub fn head(&self) -> Link {
        self.prev
    }

    /// Checks the next entry; on success it becomes the previous one.
    pub fn step(&mut self, e: &Entry<'_>) -> Result<(), Broken> {
        let stored = e.stored.ok_or(Broken::MissingLink)?;
        let stored: Link = stored.try_into().map_err(|_| Broken::BadLink)?;
        if link(&self.prev, e.key, e.record) != stored {
            return Err(Broken::Mismatch);
        }
        self.prev = stored;
        self.checked += 1;
        Ok(())
    }
}

/// The position of the first entry that breaks the chain, and why.
pub fn first_break<'a>(entries: impl IntoIterator<Item = Entry<'a>>) -> Option<(usize, Broken)> {
    let mut w = Walker::new();
    entries
        .into_iter()
        .enumerate()
        .find_map(|(i, e)| w.step(&e).err().map(|b| (i, b)))
}

/// The links of a whole chain of `(key, record)` entries, from genesis.
pub fn links<'a>(entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Vec<Link> {
    let mut prev = GENESIS;
    entries
        .into_iter()
        .map(|(k, r)| {
            prev = link(&prev, k, r);
            prev
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Link>) {
        let keys: Vec<Vec<u8>> = (0..5u32).map(|i| event_key(7, i).to_vec()).collect();
        let recs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3 + i as usize]).collect();
        let l = links(
            keys.iter()
                .map(|k| k.as_slice())
                .zip(recs.iter().map(|r| r.as_slice())),
        );
        (keys, recs, l)
    }

    fn entries<'a>(k: &'a [Vec<u8>], r: &'a [Vec<u8>], l: &'a [Link]) -> Vec<Entry<'a>> {
        k.iter()
            .zip(r)
            .zip(l)
            .map(|((k, r), l)| Entry {
                key: k,
                record: r,
                stored: Some(l.as_slice()),
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_each_link_carries_the_previous() {
        let (k, r, l) = chain();
        assert_eq!(first_break(entries(&k, &r, &l)), None);
        assert_eq!(l[0], link(&GENESIS, &k[0], &r[0]));
        for i in 1..l.len() {
            assert_eq!(l[i], link(&l[i - 1], &k[i], &r[i]));
        }
        // Empty chains verify.
        assert_eq!(first_break(Vec::<Entry>::new()), None);
    }

    #[test]
    fn a_changed_record_breaks_its_own_link() {
        let (k, mut r, l) = chain();
        r[2][0] ^= 1;
        assert_eq!(
            first_break(entries(&k, &r, &l)),
            Some((2, Broken::Mismatch))
        );
    }

    #[test]
    fn a_removed_entry_breaks_the_next_link() {
        let (mut k, mut r, mut l) = chain();
        k.remove(1);
        r.remove(1);
        l.remove(1);
        assert_eq!(
            first_break(entries(&k, &r, &l)),
            Some((1, Broken::Mismatch))
        );
    }

    #[test]
    fn swapped_entries_and_moved_keys_break() {
        let (mut k, mut r, mut l) = chain();
        k.swap(3, 4);
        r.swap(3, 4);
        l.swap(3, 4);
        assert_eq!(
            first_break(entries(&k, &r, &l)),
            Some((3, Broken::Mismatch))
        );
        // The same records under another ticket's keys.
        let (_, r, l) = chain();
        let other: Vec<Vec<u8>> = (0..5u32).map(|i| event_key(8, i).to_vec()).collect();
        assert_eq!(
            first_break(entries(&other, &r, &l)),
            Some((0, Broken::Mismatch))
        );
    }

    #[test]
    fn a_recomputed_link_after_a_change_still_breaks_the_next() {
        let (k, mut r, mut l) = chain();
        r[1] = b"forged".to_vec();
        l[1] = link(&l[0], &k[1], &r[1]);
        assert_eq!(
            first_break(entries(&k, &r, &l)),
            Some((2, Broken::Mismatch))
        );
    }

    #[test]
    fn missing_and_malformed_links_are_named() {
        let (k, r, l) = chain();
        let mut e = entries(&k, &r, &l);
        e[3].stored = None;
        assert_eq!(first_break(e), Some((3, Broken::MissingLink)));
        let mut e = entries(&k, &r, &l);
        e[0].stored = Some(&[1, 2, 3]);
        assert_eq!(first_break(e), Some((0, Broken::BadLink)));
    }

    #[test]
    fn key_length_is_part_of_the_hash() {
        // (key "ab", record "c") and (key "a", record "bc") differ.
        assert_ne!(link(&GENESIS, b"ab", b"c"), link(&GENESIS, b"a", b"bc"));
    }
}
