//! The few parts of POSIX ustar (tar) that a backup file uses: regular
//! files with names of at most 100 ASCII bytes, written one after the
//! other, then two zero blocks. Any tar tool (GNU tar, bsdtar, 7-Zip) can
//! list and extract the result.
//!
//! The reader is strict: it accepts exactly what the writer produces and
//! checks every byte that is not member data (header checksums, field
//! syntax, zero padding, the end blocks, nothing after them).

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

pub const BLOCK: u64 = 512;
/// Sizes from 8 GiB on are written in GNU base-256 form.
const OCTAL_SIZE_LIMIT: u64 = 0o77777777777;

/// The number of padding bytes after `size` bytes of data.
pub fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// The 512-byte header of a regular file.
pub fn header(name: &str, size: u64, mtime: u64) -> io::Result<[u8; 512]> {
    if name.is_empty() || name.len() > 100 || !name.is_ascii() || name.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("member name {name:?} does not fit a tar header"),
        ));
    }
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size <= OCTAL_SIZE_LIMIT {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    let mtime = mtime.min(OCTAL_SIZE_LIMIT);
    h[136..148].copy_from_slice(format!("{mtime:011o}\0").as_bytes());
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[265..272].copy_from_slice(b"hotline");
    h[297..304].copy_from_slice(b"hotline");
    let sum = checksum(&h);
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// The header checksum: every byte, with the checksum field as spaces.
fn checksum(h: &[u8; 512]) -> u32 {
    h.iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                *b as u32
            }
        })
        .sum()
}

fn octal(field: &[u8]) -> Option<u64> {
    let digits = field.split(|b| *b == 0 || *b == b' ').next()?;
    if digits.is_empty() || !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 8).ok()
}

/// One parsed header.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub size: u64,
}

/// Parses a header written by [`header`]; `Err` says what is wrong.
pub fn parse_header(h: &[u8; 512]) -> Result<Entry, String> {
    let stored = octal(&h[148..156]).ok_or("the header checksum field is not a number")?;
    if stored != checksum(h) as u64 {
        return Err("a header checksum does not match".into());
    }
    if &h[257..263] != b"ustar\0" || &h[263..265] != b"00" {
        return Err("a header is not in ustar form".into());
    }
    if h[156] != b'0' {
        return Err(format!("member of unexpected type {:?}", h[156] as char));
    }
    let name_end = h[..100].iter().position(|b| *b == 0).unwrap_or(100);
    let name = std::str::from_utf8(&h[..name_end])
        .ok()
        .filter(|n| !n.is_empty() && n.is_ascii())
        .ok_or("a member name is not plain ASCII")?
        .to_string();
    if h[345..500].iter().any(|b| *b != 0) {
        return Err("a member uses a name prefix, which backups never do".into());
    }
    let size = if h[124] == 0x80 {
        if h[125..128].iter().any(|b| *b != 0) {
            return Err("a member size is out of range".into());
        }
        u64::from_be_bytes(h[128..136].try_into().expect("8 bytes"))
    } else {
        octal(&h[124..136]).ok_or("a member size is not a number")?
    };
    Ok(Entry { name, size })
}

/// Copies `size` bytes from `r` to `w` (if any), returning their SHA-256.
pub fn copy_hashing(
    r: &mut impl Read,
    mut w: Option<&mut dyn Write>,
    size: u64,
    buf: &mut [u8],
) -> io::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = (buf.len() as u64).min(left) as usize;
        let got = r.read(&mut buf[..n])?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the source ended early",
            ));
        }
        h.update(&buf[..got]);
        if let Some(w) = w.as_deref_mut() {
            w.write_all(&buf[..got])?;
        }
        left -= got as u64;
    }
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = header("attachments/ab/abc", 1234, 1_700_000_000).unwrap();
        let e = parse_header(&h).unwrap();
        assert_eq!((e.name.as_str(), e.size), ("attachments/ab/abc", 1234));
        let big = header("hotline.redb", 20 << 30, 0).unwrap();
        assert_eq!(parse_header(&big).unwrap().size, 20 << 30);
        let mut bad = h;
        bad[10] ^= 1;
        assert!(parse_header(&bad).is_err());
        assert!(header(&"x".repeat(101), 1, 0).is_err());
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }
}
