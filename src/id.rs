//! Object ids: the BLAKE3-256 hash of an object's canonical bytes, shown as 64 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length of an object id in bytes (BLAKE3-256).
pub const ID_LEN: usize = 32;
/// Length of an object id in hex digits.
pub const HEX_LEN: usize = ID_LEN * 2;
/// Hex digits shown for an abbreviated id; lookups accept any unique prefix of at least
/// [`MIN_PREFIX_LEN`] digits.
pub const SHORT_LEN: usize = 12;
/// Shortest prefix accepted when resolving an abbreviated id, as in git.
pub const MIN_PREFIX_LEN: usize = 4;

/// The id of a stored object: BLAKE3-256 of its canonical bytes (see `object::canonical_header`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; ID_LEN]);

/// A reason a string is not an object id or id prefix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("invalid object id {value:?}: expected {HEX_LEN} hex digits, found {found}")]
    Length { value: String, found: usize },
    #[error("invalid object id {value:?}: it contains a character that is not a hex digit")]
    NotHex { value: String },
    #[error("id prefix {value:?} is too short: give at least {MIN_PREFIX_LEN} hex digits")]
    PrefixTooShort { value: String },
}

impl ObjectId {
    /// Wraps raw hash bytes.
    pub const fn from_bytes(bytes: [u8; ID_LEN]) -> Self {
        Self(bytes)
    }

    /// Hashes `bytes` with BLAKE3; `bytes` must already be an object's canonical bytes.
    pub fn hash(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Raw hash bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// Full lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Abbreviated hex form for human output ([`SHORT_LEN`] digits).
    pub fn short(&self) -> String {
        let mut s = self.to_hex();
        s.truncate(SHORT_LEN);
        s
    }

    /// Whether the lowercase hex form starts with `prefix` (which must be lowercase hex).
    pub fn has_hex_prefix(&self, prefix: &str) -> bool {
        self.to_hex().starts_with(prefix)
    }
}

impl From<blake3::Hash> for ObjectId {
    fn from(hash: blake3::Hash) -> Self {
        Self(*hash.as_bytes())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.short())
    }
}

impl FromStr for ObjectId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != HEX_LEN {
            return Err(IdError::Length {
                value: s.to_owned(),
                found: s.len(),
            });
        }
        let mut bytes = [0u8; ID_LEN];
        // Uppercase hex is rejected so that every id has exactly one spelling.
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(IdError::NotHex {
                value: s.to_owned(),
            });
        }
        hex::decode_to_slice(s, &mut bytes).map_err(|_| IdError::NotHex {
            value: s.to_owned(),
        })?;
        Ok(Self(bytes))
    }
}

/// Checks that `s` can be the prefix of an id: lowercase hex, at least [`MIN_PREFIX_LEN`] digits
/// and at most [`HEX_LEN`].
pub fn validate_prefix(s: &str) -> Result<(), IdError> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(IdError::NotHex {
            value: s.to_owned(),
        });
    }
    if s.len() > HEX_LEN {
        return Err(IdError::Length {
            value: s.to_owned(),
            found: s.len(),
        });
    }
    if s.len() < MIN_PREFIX_LEN {
        return Err(IdError::PrefixTooShort {
            value: s.to_owned(),
        });
    }
    Ok(())
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hash_matches_blake3_reference() {
        // Reference value from the BLAKE3 test vectors: the hash of the empty input.
        let id = ObjectId::hash(b"");
        assert_eq!(
            id.to_hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert!(matches!(
            "abc".parse::<ObjectId>(),
            Err(IdError::Length { found: 3, .. })
        ));
        let upper = "AF1349B9F5F9A1A6A0404DEA36DCC9499BCB25C9ADC112B7CC9A93CAE41F3262";
        assert!(matches!(
            upper.parse::<ObjectId>(),
            Err(IdError::NotHex { .. })
        ));
        let nonhex = "g".repeat(HEX_LEN);
        assert!(matches!(
            nonhex.parse::<ObjectId>(),
            Err(IdError::NotHex { .. })
        ));
    }

    #[test]
    fn prefix_validation() {
        assert!(validate_prefix("af13").is_ok());
        assert_eq!(
            validate_prefix("af1"),
            Err(IdError::PrefixTooShort {
                value: "af1".into()
            })
        );
        assert!(validate_prefix("AF13").is_err());
    }

    proptest! {
        #[test]
        fn hex_round_trip(bytes in proptest::array::uniform32(any::<u8>())) {
            let id = ObjectId::from_bytes(bytes);
            let parsed: ObjectId = id.to_hex().parse().unwrap();
            prop_assert_eq!(parsed, id);
            let json = serde_json::to_string(&id).unwrap();
            let back: ObjectId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, id);
            prop_assert!(id.has_hex_prefix(&id.short()));
        }
    }
}
